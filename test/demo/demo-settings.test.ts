/**
 * Settings of `npm run demo`: defaults, environment variables, flags winning over them, and a
 * clear error naming a bad value.
 */
import { describe, expect, it } from 'vitest'
import { parseDemoSettings } from '../../demo/demo-settings.ts'

describe('parseDemoSettings', () => {
  it('defaults to gateway 8080, emulator 7070 and SSB scale 0.01', () => {
    expect(parseDemoSettings([], {})).toEqual({
      port: 8080,
      kylinPort: 7070,
      ssbScale: 0.01,
      help: false,
    })
  })

  it('reads the environment, and flags win', () => {
    const env = { PORT: '9000', KYLIN_DEMO_PORT: '9070', KYLIN_DEMO_SSB_SCALE: '0.5' }
    expect(parseDemoSettings([], env)).toMatchObject({ port: 9000, kylinPort: 9070, ssbScale: 0.5 })
    expect(
      parseDemoSettings(['--port', '0', '--kylin-port', '0', '--ssb-scale', '1'], env),
    ).toMatchObject({
      port: 0,
      kylinPort: 0,
      ssbScale: 1,
    })
  })

  it.each([
    [['--ssb-scale', '0'], /--ssb-scale/],
    [['--ssb-scale', 'big'], /--ssb-scale/],
    [['--ssb-scale', '11'], /at most 10/],
    [['--port', '70000'], /--port/],
    [['--kylin-port', '-1'], /--kylin-port/],
    [['--nope'], /nope/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseDemoSettings(argv, {})).toThrow(message)
  })
})
