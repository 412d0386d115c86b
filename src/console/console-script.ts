/**
 * The console's module script (served as /console/app.js; no inline script, so the page's CSP
 * allows only 'self'). It runs in the browser: credentials live in one in-memory session object
 * and go only into the Authorization header of the gateway's own API calls; nothing is written to
 * storage or cookies, and signing out (or in as someone else) drops every answer of the session
 * before. Every text shown is set as text, never as markup. Portable (a string for the core).
 */
import { CONSOLE_TEXTS } from './console-texts.ts'

/** At most this many rows and bytes are read for a preview, whatever the result's size. */
export const PREVIEW_ROWS = 100
const PREVIEW_MAX_BYTES = 1 << 20

// Plain JavaScript kept as text: the core serves it as is on Node and on Workers, with no build.
const BODY = String.raw`
const LANG = /^(zh|cn)/i.test(navigator.language || '') ? 'cn' : 'en'
const T = TEXTS[LANG]
const LOCALE = LANG === 'cn' ? 'zh-CN' : 'en'
// Relative to the page, so that a proxy's path prefix in front of the gateway is kept.
const API = new URL('kylin/api/async_query', document.baseURI).pathname
const PROJECTS = new URL('kylin/api/projects', document.baseURI).pathname
const FORMATS = ['csv', 'json', 'xlsx', 'parquet', 'ndjson', 'arrow']
const LIST_LIMIT = 50
const MAX_STREAMS = 3
const MAX_STREAM_TRIES = 3
const POLL_MS = 2000
const MAX_EVENT_BUFFER = 65536
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** An answer that arrived for a session that is over: dropped, never shown. */
class Stale extends Error {}

let session = null

function text(id, arg) {
  const value = T[id] || id
  return arg === undefined ? value : value.replace('%s', String(arg))
}
const $ = (id) => document.getElementById(id)

/** An element with text children only: whatever the data, it is shown as text. */
function el(tag, props, children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(props || {})) {
    if (key === 'text') node.textContent = value
    else if (key === 'className') node.className = value
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value)
    else node.setAttribute(key, value)
  }
  for (const child of children || []) if (child !== null && child !== undefined) node.append(child)
  return node
}

function toBasic(user, password) {
  let binary = ''
  for (const byte of new TextEncoder().encode(user + ':' + password)) binary += String.fromCharCode(byte)
  return 'Basic ' + btoa(binary)
}

async function call(s, path, init) {
  const headers = new Headers((init && init.headers) || {})
  headers.set('Authorization', s.auth)
  headers.set('Accept-Language', LANG)
  if (!headers.has('Accept')) headers.set('Accept', 'application/json')
  let response
  try {
    // No cookies and no browser-kept credentials: only the header above says who calls.
    response = await fetch(path, {
      ...init,
      headers,
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
      signal: s.controller.signal,
    })
  } catch (error) {
    if (s !== session || s.controller.signal.aborted) throw new Stale()
    throw new Error(text('network', error && error.message))
  }
  if (s !== session) throw new Stale()
  return response
}

/** The message of a Kylin error envelope, or the HTTP status. */
async function toFailure(response) {
  let message = ''
  try {
    const body = JSON.parse(await response.text())
    if (body && typeof body.msg === 'string') message = body.msg
  } catch {}
  return new Error(message || text('failedWith', response.status))
}

async function callJson(s, path, init) {
  const response = await call(s, path, init)
  if (!response.ok) throw await toFailure(response)
  const body = await response.json()
  if (s !== session) throw new Stale()
  return body
}

function show(target, error) {
  if (error instanceof Stale) return
  target.textContent = error instanceof Error ? error.message : String(error)
}

// --- signing in and out ---

async function signIn(event) {
  event.preventDefault()
  const user = $('user').value.trim()
  const password = $('password').value
  signOut()
  const s = {
    auth: toBasic(user, password),
    user,
    controller: new AbortController(),
    queries: [],
    cards: new Map(),
    streams: new Map(),
    streamTries: new Map(),
    infos: new Map(),
    limits: new Map(),
    formats: new Map(),
    linksOff: document.body.dataset.links !== 'on',
    timer: 0,
    ticker: 0,
    listing: false,
    listAgain: false,
  }
  session = s
  const button = $('sign-in-button')
  button.disabled = true
  try {
    const response = await call(s, API + '?limit=1')
    if (response.status === 401 || response.status === 403) throw new Error(text('badCredentials'))
    if (!response.ok) throw await toFailure(response)
  } catch (error) {
    if (session === s) session = null
    show($('sign-in-error'), error)
    return
  } finally {
    button.disabled = false
  }
  $('password').value = ''
  $('sign-in-error').textContent = ''
  $('sign-in').hidden = true
  $('workspace').hidden = false
  $('sign-out').hidden = false
  $('who').textContent = text('signedInAs', user)
  s.ticker = setInterval(() => render(s), 1000)
  loadProjects(s)
  refreshList(s)
  $('sql').focus()
}

/** Ends the session and clears everything it showed. */
function signOut() {
  const s = session
  session = null
  if (s) {
    s.controller.abort()
    clearTimeout(s.timer)
    clearInterval(s.ticker)
    for (const stream of s.streams.values()) stream.abort()
  }
  $('password').value = ''
  $('query-list').replaceChildren()
  $('project').replaceChildren()
  $('sql').value = ''
  $('limit').value = ''
  closePreview()
  for (const id of ['sign-in-error', 'submit-error', 'list-error']) $(id).textContent = ''
  $('list-empty').hidden = true
  $('who').textContent = ''
  $('workspace').hidden = true
  $('sign-out').hidden = true
  $('sign-in').hidden = false
}

// --- projects and submit ---

async function loadProjects(s) {
  try {
    const body = await callJson(s, PROJECTS)
    // Kylin 2-4 answer a bare array; others wrap it in data (Kylin 5: data.value).
    const data = body && !Array.isArray(body) ? body.data : body
    const list = Array.isArray(data) ? data : data && Array.isArray(data.value) ? data.value
      : data && Array.isArray(data.projects) ? data.projects : []
    const names = []
    for (const project of list.slice(0, 1000)) {
      const name = typeof project === 'string' ? project : project && project.name
      if (typeof name === 'string' && name) names.push(name)
    }
    $('project').replaceChildren(...names.map((name) => el('option', { value: name, text: name })))
    if (!names.length) $('submit-error').textContent = text('noProjects')
  } catch (error) {
    show($('submit-error'), error)
  }
}

async function submitQuery(event) {
  event.preventDefault()
  const s = session
  if (!s) return
  const body = { sql: $('sql').value, project: $('project').value }
  const limit = Number($('limit').value)
  if (Number.isSafeInteger(limit) && limit > 0) body.limit = limit
  const button = $('submit')
  button.disabled = true
  $('submit-error').textContent = ''
  try {
    const answer = await callJson(s, API, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
    const data = (answer && answer.data) || {}
    const id = data.queryID || data.query_id
    if (answer.code !== '000' || typeof id !== 'string') throw new Error(answer.msg || data.info || '')
    if (body.limit) s.limits.set(id, body.limit)
    await refreshList(s)
  } catch (error) {
    show($('submit-error'), error)
  } finally {
    button.disabled = false
  }
}

// --- the list, kept live ---

function toQuery(raw) {
  if (!raw || typeof raw !== 'object') return null
  const id = raw.queryID || raw.query_id
  if (typeof id !== 'string' || !ID.test(id)) return null
  return {
    id,
    status: String(raw.status),
    project: String(raw.project || ''),
    owner: String(raw.owner || ''),
    submittedAt: Number(raw.submitted_at) || 0,
    finishedAt: raw.finished_at === null ? null : Number(raw.finished_at) || null,
    rows: Number(raw.rows) || 0,
    bytes: Number(raw.bytes) || 0,
  }
}

async function refreshList(s) {
  if (s.listing) {
    s.listAgain = true
    return
  }
  s.listing = true
  try {
    const body = await callJson(s, API + '?limit=' + LIST_LIMIT)
    const raw = body && body.data && body.data.queries
    s.queries = Array.isArray(raw) ? raw.map(toQuery).filter(Boolean) : []
    $('list-error').textContent = ''
    render(s)
    followRunning(s)
  } catch (error) {
    show($('list-error'), error)
  } finally {
    s.listing = false
  }
  if (session !== s) return
  if (s.listAgain) {
    s.listAgain = false
    return refreshList(s)
  }
  clearTimeout(s.timer)
  if (s.queries.some((q) => q.status === 'RUNNING')) s.timer = setTimeout(() => refreshList(s), POLL_MS)
}

/** Live events for a few running queries; the list poll covers the rest. */
function followRunning(s) {
  const running = new Set(s.queries.filter((q) => q.status === 'RUNNING').map((q) => q.id))
  for (const [id, stream] of s.streams) if (!running.has(id)) stream.abort()
  for (const id of running) {
    if (s.streams.size >= MAX_STREAMS) break
    const tries = s.streamTries.get(id) || 0
    if (s.streams.has(id) || tries >= MAX_STREAM_TRIES) continue
    s.streamTries.set(id, tries + 1)
    watchEvents(s, id)
  }
}

async function watchEvents(s, id) {
  const controller = new AbortController()
  s.streams.set(id, controller)
  const abort = () => controller.abort()
  s.controller.signal.addEventListener('abort', abort, { once: true })
  try {
    // fetch, not EventSource: only fetch can send the Authorization header.
    const response = await fetch(API + '/' + id + '/events', {
      headers: { Authorization: s.auth, Accept: 'text/event-stream', 'Accept-Language': LANG },
      credentials: 'omit',
      cache: 'no-store',
      signal: controller.signal,
    })
    if (!response.ok || !response.body) return
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done || session !== s) break
      buffer += value
      for (let match = /\r?\n\r?\n/.exec(buffer); match; match = /\r?\n\r?\n/.exec(buffer)) {
        onEvent(s, id, buffer.slice(0, match.index))
        buffer = buffer.slice(match.index + match[0].length)
      }
      if (buffer.length > MAX_EVENT_BUFFER) break
    }
    reader.cancel().catch(() => {})
  } catch {
  } finally {
    s.controller.signal.removeEventListener('abort', abort)
    if (s.streams.get(id) === controller) s.streams.delete(id)
    if (session === s && !controller.signal.aborted) refreshList(s)
  }
}

function onEvent(s, id, block) {
  let type = 'message'
  const data = []
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') type = value
    else if (field === 'data') data.push(value)
  }
  if (type !== 'status' || !data.length || session !== s) return
  let event
  try {
    event = JSON.parse(data.join('\n'))
  } catch {
    return
  }
  const query = s.queries.find((q) => q.id === id)
  if (!query || !event || typeof event !== 'object') return
  if (typeof event.rows === 'number') query.rows = event.rows
  if (typeof event.bytes === 'number') query.bytes = event.bytes
  if (typeof event.status === 'string') query.status = event.status
  if (event.status === 'FAILED' && typeof event.info === 'string') s.infos.set(id, event.info)
  render(s)
}

/** The message of a failed query, read once from its status. */
async function loadInfo(s, id) {
  s.infos.set(id, '')
  try {
    const body = await callJson(s, API + '/' + id + '/status')
    const info = body && body.data && body.data.info
    if (typeof info === 'string') s.infos.set(id, info)
    render(s)
  } catch {}
}

// --- rendering ---

function formatNumber(value) {
  return Number(value).toLocaleString(LOCALE)
}

function formatBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return (unit === 0 ? String(value) : value.toFixed(value < 10 ? 1 : 0)) + ' ' + units[unit]
}

function formatDuration(ms) {
  const seconds = Math.max(0, ms) / 1000
  if (seconds < 60) return seconds.toFixed(seconds < 10 ? 1 : 0) + ' s'
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return minutes + ' min ' + Math.floor(seconds % 60) + ' s'
  return Math.floor(minutes / 60) + ' h ' + (minutes % 60) + ' min'
}

function render(s) {
  if (session !== s) return
  const nodes = []
  const seen = new Set()
  for (const query of s.queries) {
    seen.add(query.id)
    let card = s.cards.get(query.id)
    if (!card || card.status !== query.status) {
      const error = card ? card.error.textContent : ''
      card = buildCard(s, query)
      card.error.textContent = error
      s.cards.set(query.id, card)
    }
    updateCard(s, card, query)
    nodes.push(card.li)
  }
  for (const id of [...s.cards.keys()]) if (!seen.has(id)) s.cards.delete(id)
  // Everything kept per query is kept only while the list shows it.
  for (const kept of [s.formats, s.infos, s.streamTries, s.limits]) {
    for (const id of [...kept.keys()]) if (!seen.has(id)) kept.delete(id)
  }
  const list = $('query-list')
  const current = [...list.children]
  if (current.length !== nodes.length || current.some((node, i) => node !== nodes[i])) {
    list.replaceChildren(...nodes)
  }
  $('list-empty').hidden = s.queries.length > 0
}

function buildCard(s, query) {
  const parts = {
    status: query.status,
    submitted: el('dd'),
    duration: el('dd'),
    rows: el('dd'),
    size: el('dd'),
    info: el('p', { className: 'info' }),
    error: el('p', { className: 'error', role: 'alert' }),
  }
  const facts = el('dl', { className: 'facts' }, [
    el('div', {}, [el('dt', { text: text('submitted') }), parts.submitted]),
    el('div', {}, [el('dt', { text: text('duration') }), parts.duration]),
    el('div', {}, [el('dt', { text: text('rows') }), parts.rows]),
    el('div', {}, [el('dt', { text: text('size') }), parts.size]),
  ])
  const actions = el('div', { className: 'actions' })
  let progress = null
  if (query.status === 'RUNNING') {
    parts.rowsBar = el('progress', { className: 'rows-progress', 'aria-label': text('rows') })
    parts.bytesBar = el('progress', { className: 'bytes-progress', 'aria-label': text('bytes') })
    parts.rowsCount = el('span')
    parts.bytesCount = el('span')
    progress = el('div', { className: 'progress' }, [
      parts.rowsCount, parts.rowsBar, parts.bytesCount, parts.bytesBar,
    ])
    actions.append(el('button', {
      type: 'button', className: 'quiet stop', text: text('stop'),
      onclick: () => act(s, parts, API + '/stop/' + query.id, 'DELETE'),
    }))
  }
  if (query.status === 'SUCCESSFUL') {
    const select = el('select', { className: 'format', 'aria-label': text('download') },
      FORMATS.map((format) => el('option', { value: format, text: format })))
    select.value = s.formats.get(query.id) || 'csv'
    select.addEventListener('change', () => s.formats.set(query.id, select.value))
    actions.append(
      el('button', { type: 'button', className: 'quiet preview', text: text('preview'),
        onclick: () => preview(s, query.id) }),
      select,
      el('button', { type: 'button', className: 'download', text: text('download'),
        onclick: () => download(s, parts, query.id, select.value) }),
    )
  }
  actions.append(el('button', {
    type: 'button', className: 'danger delete', text: text('delete'),
    onclick: () => {
      if (window.confirm(text('confirmDelete'))) remove(s, parts, query.id)
    },
  }))
  parts.li = el('li', { className: 'query', 'data-id': query.id, 'data-status': query.status }, [
    el('div', { className: 'query-head' }, [
      el('span', { className: 'status status-' + query.status, text: text(query.status) }),
      el('span', { className: 'project', text: query.project }),
      // An admin's list holds everyone's queries: say whose each one is.
      query.owner && query.owner.toUpperCase() !== s.user.toUpperCase() ? el('span', { className: 'owner', text: query.owner }) : null,
      el('span', { className: 'query-id', text: query.id }),
    ]),
    facts, progress, parts.info, actions, parts.error,
  ])
  return parts
}

function updateCard(s, card, query) {
  const end = query.finishedAt || (query.status === 'RUNNING' ? Date.now() : query.submittedAt)
  card.submitted.textContent = new Date(query.submittedAt).toLocaleString(LOCALE)
  card.duration.textContent = formatDuration(end - query.submittedAt)
  card.rows.textContent = formatNumber(query.rows)
  card.size.textContent = formatBytes(query.bytes)
  if (card.rowsBar) {
    // A query's total is known only when it was submitted here with a row limit.
    const limit = s.limits.get(query.id)
    if (limit) {
      card.rowsBar.max = limit
      card.rowsBar.value = Math.min(query.rows, limit)
    }
    card.rowsCount.textContent = text('rows') + ' ' + formatNumber(query.rows)
    card.bytesCount.textContent = text('bytes') + ' ' + formatBytes(query.bytes)
  }
  if (query.status === 'FAILED' || query.status === 'MISSING') {
    if (!s.infos.has(query.id)) loadInfo(s, query.id)
    card.info.textContent = s.infos.get(query.id) || ''
  }
}

async function act(s, card, path, method) {
  card.error.textContent = ''
  try {
    const response = await call(s, path, { method })
    if (!response.ok) throw await toFailure(response)
    await refreshList(s)
  } catch (error) {
    show(card.error, error)
  }
}

async function remove(s, card, id) {
  if ($('preview').dataset.id === id) closePreview()
  await act(s, card, API + '/' + id, 'DELETE')
}

// --- preview and download ---

function closePreview() {
  $('preview').hidden = true
  delete $('preview').dataset.id
  $('preview-table').replaceChildren()
  $('preview-note').textContent = ''
  $('preview-title').textContent = ''
}

/** The first rows only: a bounded prefix of the result as ndjson, whole lines parsed. */
async function preview(s, id) {
  const panel = $('preview')
  panel.hidden = false
  panel.dataset.id = id
  $('preview-title').textContent = text('previewTitle', id)
  $('preview-note').textContent = ''
  $('preview-table').replaceChildren()
  try {
    const response = await call(s, API + '/' + id + '/result?format=ndjson&encode=utf-8', {
      headers: { Accept: '*/*', Range: 'bytes=0-' + (PREVIEW_MAX_BYTES - 1) },
    })
    if (!response.ok) throw await toFailure(response)
    const rows = await readRows(response, response.status === 200)
    if (session !== s || panel.dataset.id !== id) return
    showRows(rows)
  } catch (error) {
    if (panel.dataset.id === id) show($('preview-note'), error)
  }
}

async function readRows(response, whole) {
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  const rows = []
  let buffer = ''
  let received = 0
  const take = (line) => {
    if (line.trim() && rows.length < PREVIEW_ROWS) rows.push(JSON.parse(line))
  }
  try {
    while (rows.length < PREVIEW_ROWS && received < PREVIEW_MAX_BYTES) {
      const { done, value } = await reader.read()
      if (done) {
        buffer += decoder.decode()
        // A last line without its newline is whole only when the whole file came.
        if (whole) take(buffer)
        break
      }
      received += value.length
      buffer += decoder.decode(value, { stream: true })
      for (let end = buffer.indexOf('\n'); end >= 0 && rows.length < PREVIEW_ROWS; end = buffer.indexOf('\n')) {
        take(buffer.slice(0, end))
        buffer = buffer.slice(end + 1)
      }
    }
  } finally {
    reader.cancel().catch(() => {})
  }
  return rows
}

function showRows(rows) {
  const table = $('preview-table')
  if (!rows.length) {
    $('preview-note').textContent = text('previewEmpty')
    return
  }
  $('preview-note').textContent = text('previewNote', rows.length)
  const columns = Object.keys(rows[0])
  const head = el('thead', {}, [el('tr', {}, columns.map((name) => el('th', { text: name })))])
  const body = el('tbody', {}, rows.map((row) => el('tr', {}, columns.map((name) => {
    const value = row[name]
    if (value === null || value === undefined) return el('td', { className: 'null', text: 'null' })
    return el('td', { text: typeof value === 'object' ? JSON.stringify(value) : String(value) })
  }))))
  table.replaceChildren(head, body)
}

function toFileName(disposition) {
  if (!disposition) return ''
  const encoded = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition)
  if (encoded) {
    try {
      return decodeURIComponent(encoded[1].trim())
    } catch {}
  }
  const plain = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(disposition)
  return plain ? plain[1].replace(/\\(.)/g, '$1') : ''
}

function save(url, name) {
  const link = el('a', { href: url, download: name, rel: 'noopener', hidden: '' })
  document.body.append(link)
  link.click()
  link.remove()
}

/** A signed link when the gateway makes them; else the bytes fetched with the credentials. */
async function download(s, card, id, format) {
  card.error.textContent = ''
  try {
    if (!s.linksOff) {
      const response = await call(s, API + '/' + id + '/link', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ttl: 300, format }),
      })
      if (response.status === 501) s.linksOff = true
      else if (!response.ok) throw await toFailure(response)
      else {
        const body = await response.json()
        const url = body && body.data && body.data.url
        if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) throw new Error(text('failedWith', 200))
        if (session === s) save(url, '')
        return
      }
    }
    const response = await call(s, API + '/' + id + '/result_download?format=' + encodeURIComponent(format), {
      headers: { Accept: '*/*' },
    })
    if (!response.ok) throw await toFailure(response)
    const blob = await response.blob()
    if (session !== s) return
    const url = URL.createObjectURL(blob)
    save(url, toFileName(response.headers.get('content-disposition')) || id + '.' + format)
    setTimeout(() => URL.revokeObjectURL(url), 60000)
  } catch (error) {
    show(card.error, error)
  }
}

// --- start ---

document.documentElement.lang = LOCALE
document.title = text('title')
for (const node of document.querySelectorAll('[data-text]')) node.textContent = text(node.dataset.text)
$('sign-in-form').addEventListener('submit', signIn)
$('query-form').addEventListener('submit', submitQuery)
$('sign-out').addEventListener('click', () => {
  signOut()
  $('user').value = ''
})
$('refresh').addEventListener('click', () => session && refreshList(session))
$('preview-close').addEventListener('click', closePreview)
$('user').focus()
`

export const CONSOLE_SCRIPT =
  `const TEXTS = ${JSON.stringify(CONSOLE_TEXTS)}\n` +
  `const PREVIEW_ROWS = ${PREVIEW_ROWS}\n` +
  `const PREVIEW_MAX_BYTES = ${PREVIEW_MAX_BYTES}\n` +
  BODY
