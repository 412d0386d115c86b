/**
 * The console's style sheet (served as /console/app.css, so the page needs no inline style):
 * one column that wraps down to a phone's width without scrolling sideways. Portable.
 */
export const CONSOLE_STYLES = `*, *::before, *::after { box-sizing: border-box; }
:root {
  color-scheme: light;
  --ink: #1d2433; --muted: #5b6475; --line: #d8dde6; --paper: #ffffff; --ground: #f3f5f8;
  --accent: #1f5fbf; --ok: #1e7a3c; --bad: #b3261e; --run: #9a6700;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif;
  color: var(--ink); background: var(--ground);
}
body { margin: 0; min-width: 0; }
[hidden] { display: none !important; }
.bar {
  display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px;
  padding: 10px 16px; background: #18263f; color: #fff;
}
.bar h1 { font-size: 17px; margin: 0; flex: 1 1 auto; }
.who { font-size: 14px; opacity: 0.85; overflow-wrap: anywhere; }
main { max-width: 1100px; margin: 0 auto; padding: 12px; display: grid; gap: 12px; }
#workspace { display: grid; gap: 12px; min-width: 0; }
.panel {
  background: var(--paper); border: 1px solid var(--line); border-radius: 8px;
  padding: 12px 14px; min-width: 0;
}
h2 { font-size: 16px; margin: 0 0 8px; }
form { display: grid; gap: 10px; margin: 0; }
label { display: grid; gap: 4px; font-size: 13px; color: var(--muted); min-width: 0; }
input, select, textarea, button { font: inherit; color: inherit; max-width: 100%; }
input, select, textarea {
  width: 100%; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px;
  background: #fff; color: var(--ink);
}
textarea { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; resize: vertical; }
button {
  padding: 6px 12px; border: 1px solid var(--accent); border-radius: 6px; background: var(--accent);
  color: #fff; cursor: pointer; white-space: nowrap;
}
button.quiet { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
button:disabled { opacity: 0.5; cursor: default; }
.bar button { background: transparent; border-color: #fff; }
.row { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; min-width: 0; }
.row > label { flex: 0 1 160px; }
.row > label.grow, .grow { flex: 1 1 200px; }
.row h2 { margin: 0; }
.error { color: var(--bad); margin: 0; overflow-wrap: anywhere; }
.error:empty { display: none; }
.muted { color: var(--muted); margin: 0; }
.queries { list-style: none; margin: 8px 0 0; padding: 0; display: grid; gap: 8px; }
.query { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; display: grid; gap: 6px; min-width: 0; }
.query-head { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; min-width: 0; }
.query-id { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; overflow-wrap: anywhere; }
.owner { font-size: 13px; color: var(--muted); }
.status { font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 10px; background: var(--ground); }
.status-SUCCESSFUL { color: var(--ok); }
.status-FAILED, .status-MISSING { color: var(--bad); }
.status-RUNNING { color: var(--run); }
.facts { display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 13px; color: var(--muted); margin: 0; }
.facts dt { display: inline; }
.facts dd { display: inline; margin: 0 0 0 4px; color: var(--ink); }
.progress { display: grid; grid-template-columns: minmax(48px, auto) 1fr; gap: 4px 8px; align-items: center; font-size: 13px; }
progress { width: 100%; height: 10px; }
.info { margin: 0; font-size: 13px; overflow-wrap: anywhere; }
.actions { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.actions select { width: auto; }
.table-wrap { overflow: auto; max-height: 60vh; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; font-size: 13px; min-width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; white-space: pre; vertical-align: top; }
th { position: sticky; top: 0; background: var(--ground); }
td.null { color: var(--muted); font-style: italic; }
`
