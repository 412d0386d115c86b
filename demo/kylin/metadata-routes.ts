/**
 * The metadata calls Kylin 2–4 clients make before they query (kylinpy, the SQLAlchemy dialect
 * Superset uses, JDBC tools): tables and columns, tables, models, cubes and cube descriptions,
 * answered in Kylin's own shapes from the emulator's database and the learn_kylin sample. Node only.
 */
import type { Context, Env, Hono } from 'hono'
import type { KylinDatabase, KylinProject } from './database.ts'
import { sendKylinError } from './kylin-errors.ts'
import {
  LEARN_KYLIN_CUBE,
  LEARN_KYLIN_CUBE_DESC,
  LEARN_KYLIN_MODEL,
  SAMPLE_PROJECT,
} from './sample-cubes.ts'
import { listProjectTables, toTableDesc, toTableMeta, type SampleTable } from './table-metadata.ts'

export function addMetadataRoutes<E extends Env>(app: Hono<E>, db: KylinDatabase): void {
  // The tables never change after loading: read once per project.
  const tablesByProject = new Map<string, Promise<SampleTable[]>>()
  const tablesOf = (project: KylinProject) => {
    let tables = tablesByProject.get(project.name)
    if (!tables) {
      tables = listProjectTables(db, project)
      tablesByProject.set(project.name, tables)
    }
    return tables
  }
  const findProject = (c: Context<E>, parameter: string) => {
    const name = c.req.query(parameter)?.trim() ?? ''
    return { name, project: name ? db.findProject(name) : undefined }
  }
  const isSampleProject = (name: string | undefined) =>
    !name || name.toLowerCase() === SAMPLE_PROJECT

  app.get('/kylin/api/tables_and_columns', async (c) => {
    const { name, project } = findProject(c, 'project')
    // Kylin answers a blank project with an empty list.
    if (!name) return c.json([])
    if (!project) return sendKylinError(c, 400, `Cannot find project '${name}'.`)
    return c.json((await tablesOf(project)).map(toTableMeta))
  })

  app.get('/kylin/api/tables', async (c) => {
    const { name, project } = findProject(c, 'project')
    if (!name) {
      return sendKylinError(c, 400, "Required String parameter 'project' is not present")
    }
    if (!project) return sendKylinError(c, 400, `Cannot find project '${name}'.`)
    const ext = c.req.query('ext')?.toLowerCase() === 'true'
    return c.json((await tablesOf(project)).map((table) => toTableDesc(table, project, ext)))
  })

  app.get('/kylin/api/models', (c) => {
    const wanted = c.req.query('modelName')?.toLowerCase()
    const models = isSampleProject(c.req.query('projectName')) ? [LEARN_KYLIN_MODEL] : []
    return c.json(models.filter((m) => !wanted || m.name.toLowerCase().includes(wanted)))
  })

  app.get('/kylin/api/cubes', (c) => {
    const wanted = c.req.query('cubeName')?.toLowerCase()
    const cubes = isSampleProject(c.req.query('projectName')) ? [LEARN_KYLIN_CUBE] : []
    return c.json(cubes.filter((cube) => !wanted || cube.name.toLowerCase().includes(wanted)))
  })

  app.get('/kylin/api/cubes/:name', (c) => {
    const name = c.req.param('name')
    if (name !== LEARN_KYLIN_CUBE.name) return sendKylinError(c, 404, `Cannot find cube '${name}'.`)
    return c.json(LEARN_KYLIN_CUBE)
  })

  // CubeDescController: `/{name}` answers an array of one, `/{name}/desc` the description itself.
  app.get('/kylin/api/cube_desc/:name', (c) => {
    const name = c.req.param('name')
    if (name !== LEARN_KYLIN_CUBE_DESC.name) {
      return sendKylinError(c, 404, `Cannot find cube '${name}'.`)
    }
    return c.json([LEARN_KYLIN_CUBE_DESC])
  })
  app.get('/kylin/api/cube_desc/:name/desc', (c) => {
    const name = c.req.param('name')
    if (name !== LEARN_KYLIN_CUBE_DESC.name) {
      return sendKylinError(c, 404, `Cannot find cube '${name}'.`)
    }
    return c.json(LEARN_KYLIN_CUBE_DESC)
  })
}
