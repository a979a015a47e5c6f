/** The console's only stylesheet, served from /console/assets (the CSP forbids inline styles). */
export const STYLES = `
:root{--fg:#1a1d21;--muted:#50565e;--bg:#fff;--panel:#f4f6f8;--line:#c9ced4;--accent:#1f4fd1;--accent-fg:#fff;--danger:#a61b1b;--ok:#1d6b34;--warn:#7a4d00;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
*{box-sizing:border-box}
body{margin:0}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,[tabindex]:focus-visible{outline:3px solid #f2a900;outline-offset:2px}
.skip{position:absolute;left:-9999px;top:0;background:var(--accent);color:var(--accent-fg);padding:.5rem 1rem;z-index:10}
.skip:focus{left:0}
header.top{background:#15243f;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem}
header.top .brand{font-weight:700;margin-right:auto}
header.top a{color:#fff}
header.top form{margin:0}
header.top button{background:transparent;color:#fff;border:1px solid #fff}
nav.main{background:var(--panel);border-bottom:1px solid var(--line);padding:.25rem 1rem}
nav.main ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
nav.main a{display:inline-block;padding:.35rem 0;text-decoration:none}
nav.main a[aria-current=page]{font-weight:700;text-decoration:underline}
main{padding:1rem;max-width:72rem;margin:0 auto}
h1{font-size:1.6rem;margin:.5rem 0 1rem}
h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
p,li,td,th,dd,dt,code{overflow-wrap:anywhere}
.table-wrap{overflow-x:auto;max-width:100%;border:1px solid var(--line);border-radius:4px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
thead th{background:var(--panel)}
form.stack{display:grid;gap:.75rem;max-width:36rem}
form.inline{display:inline}
.field{display:grid;gap:.2rem}
.field label,fieldset legend{font-weight:600}
input[type=text],input[type=email],input[type=search],input[type=password],input[type=number],input[type=date],select,textarea{font:inherit;padding:.45rem .55rem;border:1px solid #767676;border-radius:4px;width:100%;background:#fff;color:var(--fg)}
fieldset{border:1px solid var(--line);border-radius:4px;padding:.5rem .75rem}
.checks{display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.checks label{font-weight:400}
button,.button{font:inherit;padding:.45rem .9rem;border-radius:4px;border:1px solid var(--accent);background:var(--accent);color:var(--accent-fg);cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#fff;color:var(--accent)}
button.danger{background:var(--danger);border-color:var(--danger);color:#fff}
.hint{color:var(--muted);font-size:.9rem;margin:0}
.error{color:var(--danger);font-weight:600;margin:0}
.notice{border-left:4px solid var(--accent);background:var(--panel);padding:.6rem .9rem;margin:0 0 1rem}
.notice.error-box{border-color:var(--danger)}
.notice.ok{border-color:var(--ok)}
.secret{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.secret input{font-family:ui-monospace,Menlo,Consolas,monospace;flex:1 1 16rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.85rem;border:1px solid currentColor}
.badge.ok{color:var(--ok)}.badge.off{color:var(--danger)}.badge.warn{color:var(--warn)}
dl.props{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.25rem 1rem}
dl.props dt{font-weight:600}
dl.props dd{margin:0}
.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}
.row .field{flex:1 1 14rem}
.pager{display:flex;gap:1rem;margin-top:.75rem}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92rem}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--panel);padding:.5rem;border-radius:4px;margin:0}
@media (max-width:40rem){dl.props{grid-template-columns:1fr}dl.props dd{margin-bottom:.4rem}main{padding:.75rem}}
`;
