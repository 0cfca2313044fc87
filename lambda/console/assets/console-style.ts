/** The console's stylesheet, served as /console/assets/console.css (the CSP allows no inline style). */
export const CONSOLE_STYLE = String.raw`
:root { --ink: #1d2433; --muted: #5b6576; --line: #dfe3ea; --bg: #f6f7f9; --card: #fff; --accent: #2457d6; --accent-ink: #fff;
  --ok: #13795b; --ok-bg: #e3f5ee; --warn: #8a5a00; --warn-bg: #fff4d6; --bad: #b42318; --bad-bg: #fdeceb; --idle: #5b6576; --idle-bg: #eef0f4; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #8fb0ff; outline-offset: 2px; }
.topbar { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding: .6rem 1.5rem; background: #111a2e; color: #e8ecf5; }
.topbar .brand { color: #fff; font-weight: 700; font-size: 1.1rem; text-decoration: none; letter-spacing: .02em; }
.topbar .who { display: flex; align-items: center; gap: 1rem; font-size: .9rem; }
.topbar form { margin: 0; }
.topbar .nav { display: flex; gap: .25rem; margin-right: auto; margin-left: 1rem; }
.topbar .nav a { color: #c9d2e3; text-decoration: none; font-weight: 600; font-size: .92rem; padding: .3rem .7rem; border-radius: 6px; display: inline-flex; align-items: center; gap: .4rem; }
.topbar .nav a:hover { color: #fff; background: #1d2944; }
.topbar .nav a[aria-current=page] { color: #fff; background: #24314f; }
.topbar .nav .count { display: inline-block; min-width: 1.4rem; padding: 0 .4rem; border-radius: 999px; background: #e5a100; color: #111a2e; font-size: .75rem; line-height: 1.35rem; text-align: center; }
.visually-hidden { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
main { max-width: 1320px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
.page-head { display: flex; align-items: center; justify-content: space-between; gap: 1rem; flex-wrap: wrap; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1.1rem 1.25rem; margin-bottom: 1.25rem; }
.narrow { max-width: 560px; }
.button { display: inline-block; font: inherit; font-weight: 600; padding: .45rem .9rem; border-radius: 7px; border: 1px solid var(--line); background: #fff; color: var(--ink); cursor: pointer; text-decoration: none; line-height: 1.3; }
.button:hover { background: #f0f2f6; }
.button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-ink); }
.button.primary:hover { background: #1b45ad; }
.button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
.button.subtle { background: transparent; color: #e8ecf5; border-color: #3a4660; }
.button[disabled] { opacity: .6; cursor: progress; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; }
.actions form { margin: 0; }
table { width: 100%; border-collapse: collapse; font-size: .92rem; }
caption { text-align: left; font-weight: 600; padding-bottom: .5rem; }
th, td { text-align: left; padding: .5rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { color: var(--muted); font-weight: 600; font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; white-space: nowrap; }
tbody th { font-weight: 600; }
tbody th .mono { font-weight: 400; font-size: .78rem; }
td.when, td.nowrap { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:hover { background: #fafbfc; }
.table-wrap { overflow-x: auto; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: 999px; font-size: .8rem; font-weight: 600; white-space: nowrap; }
.badge.active, .badge.idle-ok { color: var(--ok); background: var(--ok-bg); }
.badge.inactive { color: var(--warn); background: var(--warn-bg); }
.badge.expired, .badge.idle { color: var(--idle); background: var(--idle-bg); }
.badge.revoked, .badge.failed { color: var(--bad); background: var(--bad-bg); }
.badge.rotating, .badge.draining { color: var(--accent); background: #e6edff; }
.badge.alert-error-rate, .badge.alert-retired-credential { color: var(--bad); background: var(--bad-bg); }
.badge.alert-request-rate, .badge.alert-new-source { color: var(--warn); background: var(--warn-bg); }
.filter-note { align-self: center; font-size: .9rem; }
.tag { display: inline-block; padding: 0 .45rem; margin: 0 .25rem .2rem 0; border-radius: 4px; background: var(--idle-bg); font-size: .8rem; }
.muted { color: var(--muted); }
.mono, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
.filters { display: flex; gap: .75rem; flex-wrap: wrap; align-items: end; margin-bottom: 1rem; }
.field { display: flex; flex-direction: column; gap: .25rem; margin-bottom: .9rem; }
.filters .field { margin-bottom: 0; }
label, legend { font-weight: 600; font-size: .88rem; }
.hint { color: var(--muted); font-size: .82rem; font-weight: 400; }
input[type=text], input[type=password], input[type=search], input[type=number], input[type=date], select, textarea { font: inherit; padding: .42rem .55rem; border: 1px solid #c5ccd8; border-radius: 6px; background: #fff; color: var(--ink); min-width: 12rem; }
fieldset { border: 1px solid var(--line); border-radius: 8px; padding: .6rem .9rem; margin: 0 0 .9rem; }
.checks { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .3rem .75rem; }
.checks label { font-weight: 400; display: flex; gap: .4rem; align-items: center; }
.row { display: flex; gap: 1rem; flex-wrap: wrap; }
.notice { padding: .7rem 1rem; border-radius: 8px; margin-bottom: 1rem; }
.notice.error { background: var(--bad-bg); color: var(--bad); border: 1px solid #f5c2be; }
.notice.info { background: #e6edff; color: #1b3a8a; border: 1px solid #c3d3ff; }
.notice.readonly { background: var(--warn-bg); color: var(--warn); border: 1px solid #f0d38a; }
dl.config { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1.25rem; margin: 0; }
dl.config dt { color: var(--muted); font-weight: 600; font-size: .88rem; }
dl.config dd { margin: 0; }
.grid-2 { display: grid; grid-template-columns: 1fr 1fr; gap: 1.25rem; }
@media (max-width: 900px) { .grid-2 { grid-template-columns: 1fr; } }
.grid-2 { margin-bottom: 1.25rem; }
.grid-2 > .card, .detail-sections > .card { margin-bottom: 0; }
.detail-sections { display: grid; gap: 1.25rem; margin-bottom: 1.25rem; }
.chart svg { width: 100%; height: auto; display: block; }
.chart .legend { display: flex; gap: 1rem; font-size: .85rem; color: var(--muted); margin-top: .4rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
.swatch.ok { background: #6f93e8; }
.swatch.err { background: #d9534f; }
.pagination { display: flex; gap: .5rem; align-items: center; justify-content: flex-end; margin-top: 1rem; font-size: .9rem; }
dialog.reveal { border: 0; border-radius: 12px; padding: 1.5rem; max-width: 640px; width: calc(100% - 2rem); box-shadow: 0 20px 60px rgba(10, 20, 40, .35); }
dialog.reveal::backdrop { background: rgba(17, 26, 46, .55); }
.warning { background: var(--warn-bg); color: var(--warn); border: 1px solid #f0d38a; padding: .6rem .8rem; border-radius: 8px; font-weight: 600; }
code.secret { display: block; padding: .75rem; border-radius: 8px; background: #111a2e; color: #e8ecf5; word-break: break-all; font-size: .95rem; margin: .75rem 0; user-select: all; }
.copy-status { min-height: 1.5em; margin: 0 0 .5rem; color: var(--ok); font-weight: 600; }
.error-box { margin-bottom: 1rem; }
.checks-line { display: block; font-weight: 400; margin: .2rem 0; }
.empty { padding: 2rem; text-align: center; color: var(--muted); }
`;
