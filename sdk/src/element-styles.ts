// The element's shadow-root styles. Pages theme it only through the --doorstep-* custom properties
// (sdk/README.md lists them): `all: initial` keeps the page's own inherited styles out.
export const STYLES = `
:host{--a:var(--doorstep-accent,#4f46e5);--ac:var(--doorstep-accent-contrast,#fff);--r:var(--doorstep-radius,12px);--t:var(--doorstep-text,#1d2130);
--m:var(--doorstep-muted,#555c70);--s:var(--doorstep-surface,#fff);--b:var(--doorstep-border,#d8dbe4);--ok:var(--doorstep-success,#137a48);
--e:var(--doorstep-danger,#b42318);--ir:calc(var(--r)*.6);all:initial;color:var(--t);font:15px/1.5 var(--doorstep-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif)}
*{box-sizing:border-box}
[hidden]{display:none!important}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
dialog,.panel{background:var(--s);color:var(--t);font:inherit;border-radius:var(--r);overflow:auto;overscroll-behavior:contain}
dialog{width:min(32rem,calc(100vw - 2rem));max-height:calc(100vh - 2rem);padding:1.5rem;border:0;box-shadow:0 20px 60px #0004}
dialog::backdrop{background:var(--doorstep-backdrop,#11142190)}
h2{margin:0 2.5rem .5rem 0;font-size:1.35rem;line-height:1.25}
h3{margin:0 0 .25rem;font-size:1.05rem;line-height:1.3}
p{margin:.5rem 0}
a{color:var(--a)}
.media{display:block;width:100%;max-height:14rem;object-fit:cover;border-radius:var(--ir);margin-bottom:1rem}
button{font:inherit;font-weight:600;cursor:pointer;border-radius:var(--ir);padding:.5rem 1rem;min-height:2.75rem;border:1px solid var(--a);background:var(--s);color:var(--a)}
.primary{background:var(--a);color:var(--ac)}
.link{border-color:transparent;padding-inline:.25rem}
.icon{border-color:transparent;color:var(--m);padding:0;width:2.75rem;font-size:1.5rem;line-height:1}
:focus-visible{outline:3px solid var(--a);outline-offset:2px}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;justify-content:flex-end;margin-top:1.25rem}
.actions .link{margin-right:auto}
.close{position:absolute;top:.5rem;right:.5rem}
.panel{position:fixed;z-index:var(--doorstep-z-index,2147483000);right:1rem;bottom:1rem;width:var(--doorstep-panel-width,23rem);max-height:calc(100vh - 2rem);
border:1px solid var(--b);box-shadow:0 12px 40px #0003;padding:0 1.25rem 1.25rem;scroll-padding-top:6rem}
.sticky{position:sticky;top:0;z-index:1;background:var(--s);padding:.75rem 0 .5rem}
.head{display:flex;align-items:center;gap:.25rem;margin-right:-.75rem}
.head h2{flex:1;margin:0;font-size:1rem}
.count{margin:0 0 .35rem;color:var(--m);font-size:.875rem}
.bar{height:.5rem;border-radius:1rem;background:var(--b);overflow:hidden}
.bar span{display:block;height:100%;background:var(--a);transition:width .3s}
.step,.done{margin-top:.75rem}
.step h3:focus{outline:0}
.hint{color:var(--m);font-size:.875rem;border-left:3px solid var(--a);padding-left:.6rem}
.badge{color:var(--ok);font-weight:600;font-size:.875rem}
.notice{background:color-mix(in srgb,var(--a) 9%,var(--s));border-radius:var(--ir);padding:.6rem .8rem;margin-top:1rem}
.notice p{margin:.25rem 0}
fieldset{border:0;padding:0;margin:1rem 0 0;min-width:0}
legend,.q>label{display:block;font-weight:600;padding:0;margin-bottom:.4rem}
.q{margin-top:1rem}
.req{font-weight:400;color:var(--m)}
.opts{display:flex;flex-wrap:wrap;gap:.4rem}
.opt{display:flex;align-items:center;gap:.5rem;flex:1 1 9rem;padding:.45rem .7rem;min-height:2.75rem;border:1px solid var(--b);border-radius:var(--ir);cursor:pointer}
.scale .opt{flex:1 0 3rem;justify-content:center}
.opt:has(:checked){border-color:var(--a);background:color-mix(in srgb,var(--a) 9%,var(--s))}
input{accent-color:var(--a);margin:0}
.q>input{font:inherit;color:var(--t);background:var(--s);width:100%;padding:.5rem .7rem;min-height:2.75rem;border:1px solid var(--m);border-radius:var(--ir)}
[aria-invalid=true]{border-color:var(--e)}
.error{color:var(--e);font-size:.875rem;margin:.3rem 0 0}
.checklist{margin-top:1.25rem;border-top:1px solid var(--b);padding-top:1rem}
.checklist ul{list-style:none;margin:.25rem 0 0;padding:0}
.checklist li{display:flex;gap:.6rem;align-items:center;padding:.2rem 0}
.tick{flex:none;display:inline-grid;place-items:center;width:1.3rem;height:1.3rem;border:2px solid var(--b);border-radius:50%;font-size:.75rem;color:var(--s)}
.on .tick,.big{background:var(--ok);border-color:var(--ok)}
.big{width:2.5rem;height:2.5rem;font-size:1.4rem;margin-bottom:.5rem}
.muted{color:var(--m);font-weight:400}
.is-banner,.is-inline{position:relative;inset:0;width:auto;box-shadow:none}
.is-banner{border-radius:0;border-width:0 0 1px}
.is-banner .sticky{display:flex;flex-wrap:wrap;align-items:center;gap:0 1rem;padding:.5rem 2.5rem .5rem 0}
.is-banner h2{margin:0;font-size:1rem}
.is-banner .actions{margin:0}
.is-checklist :is(.count,.bar,.step){display:none}
@media (max-width:480px){
dialog{width:100%;max-width:100%;margin:auto 0 0;border-radius:var(--r) var(--r) 0 0;max-height:90vh}
.panel{left:0;right:0;bottom:0;width:auto;border-width:1px 0 0;border-radius:var(--r) var(--r) 0 0;max-height:55vh;padding:0 1rem 1rem}
.actions button:not(.link){flex:1}}
@media (prefers-reduced-motion:reduce){.bar span{transition:none}}
`;
