/** The page's stylesheet, inlined. Colours keep text at 4.5:1 or better (WCAG AA). */
export const PAGE_STYLE = `
:root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --dim: #59636e; --line: #d0d7de; --bg: #f6f8fa; --fg: #1f2328; --card: #fff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
header.top { background: #0b2e4f; color: #fff; padding: 14px 24px; display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: baseline; }
header.top h1 { font-size: 20px; margin: 0; }
header.top .meta { color: #d8e3ee; }
header.top .state { font-weight: 700; padding: 2px 10px; border-radius: 12px; background: #fff; }
header.top .state.ok { color: var(--ok); } header.top .state.bad { color: var(--bad); }
main { padding: 16px 24px 40px; max-width: 1400px; margin: 0 auto; }
h2 { font-size: 18px; margin: 18px 0 10px; }
h3 { font-size: 16px; margin: 0 0 8px; }
h3.cardname { font-size: 14px; margin: 0 0 6px; }
.muted { color: var(--dim); }
.bad-text { color: var(--bad); } .warn-text { color: var(--warn); font-weight: 600; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
code, pre { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.flows-head { display: flex; flex-wrap: wrap; align-items: center; gap: 12px 24px; }
fieldset.seg { border: 1px solid var(--line); border-radius: 8px; padding: 2px 10px 6px; margin: 0; background: var(--card); }
fieldset.seg legend { font-size: 12px; color: var(--dim); padding: 0 4px; }
fieldset.seg label { margin-right: 12px; }
.flow-cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
.flow-col, .flow-single, .sc .body, .conn { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px; }
.flow-col[hidden] { display: none; }
svg.topology { width: 100%; height: auto; display: block; margin: 4px auto 10px; }
svg.topology.v { display: none; }
@media (max-width: 700px) { svg.topology.h { display: none; } svg.topology.v { display: block; } }
.flow-col svg.topology.h { display: none; } .flow-col svg.topology.v { display: block; }
svg.topology .node rect { fill: #eef4fb; stroke: #54789c; stroke-width: 1.5; }
svg.topology .node.rejecting rect { fill: #ffebe9; stroke: var(--bad); stroke-width: 2.5; }
svg.topology .name { font-weight: 700; font-size: 16px; fill: var(--fg); }
svg.topology .sub { font-size: 13px; fill: #424a53; }
svg.topology .edge, svg.topology .edge2 { font-size: 14px; font-weight: 700; paint-order: stroke; stroke: #fff; stroke-width: 5px; }
svg.topology .edge2 { font-weight: 400; font-size: 13px; }
svg.topology .ok { fill: var(--ok); } svg.topology .fail { fill: var(--bad); } svg.topology .skip { fill: var(--dim); }
.nodes { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 10px; margin-bottom: 10px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; background: #fbfcfd; min-width: 0; }
.card dl { margin: 0; } .card dt { font-size: 12px; color: #424a53; font-weight: 600; margin-top: 6px; } .card dd { margin: 2px 0 0; overflow-wrap: anywhere; }
.cert div { overflow-wrap: anywhere; } .cert .k { display: inline-block; min-width: 48px; color: var(--dim); font-size: 12px; }
ul.cas { margin: 0; padding-left: 18px; }
.pill { display: inline-block; font-weight: 700; font-size: 12px; padding: 1px 8px; border-radius: 10px; white-space: nowrap; }
.pill.ok { background: #dafbe1; color: #116329; } .pill.fail { background: #ffebe9; color: #a40e26; } .pill.skip { background: #eaeef2; color: #424a53; }
.leg { border-left: 4px solid var(--line); margin: 8px 0; padding-left: 10px; }
.leg.ok { border-color: var(--ok); } .leg.fail { border-color: var(--bad); } .leg.skip { border-color: #afb8c1; }
details > summary { cursor: pointer; padding: 4px 2px; }
summary:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; border-radius: 4px; }
.leg .verdict { color: #424a53; }
.legbody { padding: 4px 0 6px; } .url { margin: 2px 0 6px; color: var(--dim); font-size: 12px; overflow-wrap: anywhere; }
ol.ladder { list-style: none; margin: 0; padding: 0; max-width: 880px; }
ol.ladder li { display: grid; grid-template-columns: 74px 1fr; align-items: stretch; }
ol.ladder .t { font: 11px/1 ui-monospace, "DejaVu Sans Mono", monospace; color: var(--dim); text-align: right; padding: 8px 8px 0 0; }
ol.ladder .lane { position: relative; padding: 4px 16% 14px; min-height: 34px; }
ol.ladder .lane::before, ol.ladder .lane::after { content: ""; position: absolute; top: 0; bottom: 0; width: 2px; background: #8c959f; }
ol.ladder .lane::before { left: 12%; } ol.ladder .lane::after { right: 12%; }
.lhead .lane { min-height: 0; padding-bottom: 6px; }
.lhead b { position: absolute; top: 0; width: 24%; text-align: center; font-size: 13px; background: #0b2e4f; color: #fff; border-radius: 6px; padding: 3px 2px; z-index: 1; }
.lhead b small { display: block; font-weight: 400; font-size: 11px; color: #d8e3ee; }
.lhead b.l { left: 0; } .lhead b.r { right: 0; }
.lhead .lane { height: 44px; }
.msg .lbl { display: block; text-align: center; font-weight: 600; }
.msg .det, .mark .det { display: block; text-align: center; font-size: 12px; color: #424a53; overflow-wrap: anywhere; }
.msg .arrow { position: absolute; left: 12%; right: 12%; bottom: 6px; height: 2px; background: currentColor; }
.msg.right .arrow::after, .msg.left .arrow::after { content: ""; position: absolute; top: -5px; border-top: 6px solid transparent; border-bottom: 6px solid transparent; }
.msg.right .arrow::after { right: -1px; border-left: 11px solid currentColor; }
.msg.left .arrow::after { left: -1px; border-right: 11px solid currentColor; }
.msg.plain { color: var(--fg); } .msg.dim { color: var(--dim); } .msg.dim .lbl { font-weight: 400; font-size: 13px; }
.msg.dim .lane { min-height: 26px; padding-top: 2px; padding-bottom: 10px; }
.msg.bad { color: var(--bad); } .msg.bad .arrow { height: 3px; } .msg.warn { color: var(--warn); }
.msg.bad .det, .msg.warn .det { color: inherit; }
.note .lane { padding-top: 2px; padding-bottom: 6px; }
.logbox { display: block; position: relative; z-index: 1; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 4px 8px; width: 62%; }
.note.left .logbox { margin-left: -14%; } .note.right .logbox { margin-left: auto; margin-right: -14%; }
.logbox .who, .logs .who { display: block; font-size: 11px; font-weight: 700; color: #633c01; text-transform: uppercase; letter-spacing: .03em; }
.logbox code, .logs code { display: block; white-space: pre-wrap; overflow-wrap: anywhere; }
.mark .lane { padding-top: 4px; padding-bottom: 6px; }
.banner { display: block; position: relative; z-index: 1; text-align: center; border-radius: 6px; padding: 4px 8px; font-weight: 700; margin: 0 -14%; }
.mark.ok .banner { background: #dafbe1; color: #116329; border: 1px dashed var(--ok); }
.mark.bad .banner { background: #ffebe9; color: #a40e26; border: 2px solid var(--bad); }
.mark .banner .det { font-weight: 400; color: inherit; }
.logs { margin-top: 8px; display: grid; gap: 6px; } .logs > div { background: #fff8c5; border-radius: 6px; padding: 4px 8px; }
.mismatch { background: #ffebe9; border: 1px solid var(--bad); border-radius: 8px; padding: 6px 10px; margin: 8px 0; }
.cmd pre { background: #eaeef2; padding: 8px; border-radius: 6px; overflow-x: auto; }
form.filters { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: end; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 10px 12px; position: sticky; top: 0; z-index: 5; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; font-weight: 600; color: #424a53; gap: 2px; }
form.filters .grow { flex: 1 1 220px; }
form.filters select, form.filters input { font: inherit; padding: 4px 6px; border: 1px solid #8c959f; border-radius: 6px; background: #fff; color: var(--fg); }
#f-count { font-size: 13px; color: #424a53; padding-bottom: 5px; }
ol.scenarios, ol.live { list-style: none; margin: 10px 0; padding: 0; }
.sc { border-bottom: 1px solid var(--line); background: var(--card); }
.sc:first-child { border-top: 1px solid var(--line); }
.sc > details > summary { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; padding: 7px 10px; }
.sc.unexpected { background: #fff5f5; }
.sc .sid { font: 600 13px ui-monospace, "DejaVu Sans Mono", monospace; }
.sc .tls { font-size: 12px; color: #424a53; background: #eaeef2; border-radius: 6px; padding: 0 6px; }
.sc .expect { font-size: 12px; font-weight: 600; } .sc .expect.ok { color: #116329; } .sc .expect.bad { color: var(--bad); }
.sc .stitle { flex: 1 1 300px; color: #424a53; }
.sc .chips { display: flex; flex-wrap: wrap; gap: 4px; }
.chip { font-size: 11px; padding: 0 6px; border-radius: 8px; border: 1px solid; white-space: nowrap; }
.chip.ok { color: #116329; border-color: #4ac26b; } .chip.fail { color: #a40e26; border-color: #ff8182; background: #fff0ee; } .chip.skip { color: #424a53; border-color: #afb8c1; }
.sc .body { margin: 0 10px 12px; }
.conn { margin-bottom: 10px; } .conn-head { margin: 0 0 4px; }
footer { color: var(--dim); font-size: 12px; padding: 0 24px 24px; text-align: center; }
@media (max-width: 700px) {
  main { padding: 10px; } header.top { padding: 10px; }
  .flow-cols { grid-template-columns: 1fr; }
  ol.ladder li { grid-template-columns: 52px 1fr; }
  ol.ladder .lane { padding-left: 14%; padding-right: 14%; }
  .lhead b { width: 30%; font-size: 12px; }
  .logbox { width: 86%; } .note.left .logbox { margin-left: -12%; } .note.right .logbox { margin-right: -12%; }
  .banner { margin: 0 -12%; }
}
`;
