"""One self-contained HTML page to explore an incident's flow offline: cytoscape.js (vendored,
unmodified, with its licence) inlined with the data, pan and zoom, a time slider that replays
the flow, details on click, an address search and a quiz that hides the truth and scores the
student's picks.

The layout is the drawing's (:func:`launderbench.benchmarks.draw.flow_graph`): hop layers left
to right, one band per chain.
"""

from __future__ import annotations

import json
from pathlib import Path

from launderbench.simulator.errors import ConfigError

from .draw import ROLE_COLOURS, STAGE_COLOURS, flow_graph

__all__ = ["write_explorer", "explorer_data", "CYTOSCAPE_VERSION"]

VENDOR = Path(__file__).resolve().parent / "vendor"
CYTOSCAPE_VERSION = "3.35.0"
#: cytoscape node shape per public service attribution
SHAPES = {"none": "ellipse", "exchange": "rectangle", "mixer": "hexagon", "bridge": "diamond",
          "otc": "star", "dex": "triangle", "marketplace": "vee",
          "payment_processor": "pentagon", "mining_pool": "octagon", "issuer": "tag"}
#: roles that are not the launderer's in the quiz (the victim is robbed; benign is benign)
NOT_LAUNDERER = {"victim", "benign"}
X_STEP, Y_STEP = 130.0, 46.0


def explorer_data(ds, incident: int | None = None, hops: int = 1,
                  max_nodes: int = 500) -> dict:
    """The page's data: nodes and edges with observable fields and a ``truth`` part."""
    h = flow_graph(ds, incident, hops, max_nodes)
    ids = {n: f"n{i}" for i, n in enumerate(h.nodes)}
    inc = h.graph["incident"]
    nodes = []
    for n, d in h.nodes(data=True):
        x, y = d["pos"]
        role = d.get("truth_role", "benign")
        bundle = d["count"] > 1
        nodes.append({
            "id": ids[n], "x": x * X_STEP, "y": -y * Y_STEP,
            "label": (f"{d['count']} addresses" if bundle else
                      (d.get("service_name") or _short_name(d.get("address")) or f"#{n}")),
            "name": "" if bundle else d.get("address", ""),
            "addresses": [int(m) for m in d["members"]],
            "count": d["count"], "chain": d.get("chain", ""), "service": d.get("service", ""),
            "service_name": d.get("service_name", ""), "start": d["start"],
            "time": d.get("time", ""), "shape": SHAPES.get(d.get("service", "none"), "ellipse"),
            "truth": {"role": role, "stage": d["stage"],
                      "laundering": bool(d.get("truth_incident", -1) == inc
                                         and role not in NOT_LAUNDERER)},
        })
    edges = []
    for i, (u, v, d) in enumerate(h.edges(data=True)):
        if u == v:
            continue
        e = {"id": f"e{i}", "source": ids[u], "target": ids[v], "start": d["start"],
             "hidden": bool(d.get("hidden")), "usd": round(float(d.get("usd", 0.0)), 2),
             "n": int(d.get("n", 1)),
             "truth": {"stage": d.get("truth_stage", "none"),
                       "incident": int(d.get("truth_incident", -1)),
                       "link": d.get("link", "")}}
        if not e["hidden"]:
            e.update(asset=d.get("asset", ""), chain=d.get("chain", ""),
                     value=float(d.get("value", 0.0)), time=d.get("time", ""),
                     tx_id=int(d.get("tx_id", -1)))
        edges.append(e)
    starts = [n["start"] for n in nodes] + [e["start"] for e in edges]
    g = h.graph
    return {
        "title": f"{g['scenario']}, incident {inc}" + (f" ({g['playbook']})"
                                                       if g["playbook"] else ""),
        "scenario": g["scenario"], "incident": inc, "hops": hops,
        "addresses": g["addresses"], "transfers": g["transfers"], "bundled": g["bundled"],
        "t0": min(starts, default=0), "t1": max(starts, default=0),
        "bands": [{"chain": c, "y0": -y1 * Y_STEP, "y1": -y0 * Y_STEP}
                  for c, y0, y1 in g["bands"]],
        "nodes": nodes, "edges": edges,
        "roleColours": ROLE_COLOURS, "stageColours": STAGE_COLOURS,
    }


def _inline_script(text: str) -> str:
    return text.replace("</script", "<\\/script")


def _short_name(name) -> str:
    """An original address string short enough for a node label (``0x4f56...8cb4``)."""
    if not name:
        return ""
    name = str(name)
    return name if len(name) <= 14 else f"{name[:6]}...{name[-4:]}"


def write_explorer(ds, path, incident: int | None = None, hops: int = 1,
                   max_nodes: int = 500, test_harness: bool = False) -> Path:
    """Write the explorer page for ``incident`` of ``ds`` to ``path``; with ``test_harness``
    the page also carries the self-test that ``#test=<state>`` runs (for the browser test)."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"cannot write the explorer to '{path.name}': use a .html file")
    data = explorer_data(ds, incident, hops, max_nodes)
    lib = (VENDOR / "cytoscape.min.js").read_text(encoding="utf-8")
    licence = (VENDOR / "cytoscape.LICENSE").read_text(encoding="utf-8")
    page = (PAGE.replace("__TITLE__", _esc(data["title"]))
            .replace("__CSS__", CSS)
            .replace("__LICENCE__", _esc(licence))
            .replace("__VERSION__", CYTOSCAPE_VERSION)
            .replace("__LIB__", _inline_script(lib))
            .replace("__DATA__", _inline_script(json.dumps(data, separators=(",", ":"))))
            .replace("__APP__", APP)
            .replace("__TEST__", TEST_HARNESS if test_harness else ""))
    path.write_text(page, encoding="utf-8")
    return path


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__ - launderbench explorer</title>
<style>__CSS__</style>
</head>
<body>
<header>
  <h1 id="title">__TITLE__</h1>
  <div id="controls">
    <button id="play" title="Replay the flow">&#9654; play</button>
    <input id="slider" type="range" min="0" max="1000" value="1000" aria-label="time">
    <span id="clock"></span>
    <input id="search" type="search" placeholder="address id or string, e.g. 1234" aria-label="search">
    <button id="fit">fit</button>
    <button id="quiz">quiz</button>
  </div>
</header>
<main>
  <div id="cy"></div>
  <aside>
    <div id="quizbox" hidden>
      <b>Quiz: which addresses are the launderer's?</b>
      <p>Click the addresses you think the launderer controls (click again to unpick).
      Roles, stages and hidden service links are hidden.</p>
      <button id="check">check my picks</button> <button id="reveal">show answer</button>
      <button id="leave">leave quiz</button>
      <p id="score"></p>
    </div>
    <div id="info"><p>Click an address or a transfer for details. Scroll to zoom, drag to
    pan; the slider replays the flow in time.</p></div>
    <div id="legend"></div>
    <details><summary>about</summary>
      <p>launderbench explorer. Nodes are addresses (shape: public attribution; fill: role;
      ring: stage), edges are transfers (width: value; dashed: hidden service link, ground
      truth). Bands are chains.</p>
      <p>Drawn with cytoscape.js __VERSION__, included unmodified under its licence:</p>
      <pre id="licence">__LICENCE__</pre>
    </details>
  </aside>
</main>
<script>__LIB__</script>
<script id="data" type="application/json">__DATA__</script>
<script>__APP__</script>
<script>__TEST__</script>
</body>
</html>
"""

CSS = """
*{box-sizing:border-box}body{margin:0;font:13px/1.35 system-ui,sans-serif;color:#222;
display:flex;flex-direction:column;height:100vh}
header{padding:6px 10px;border-bottom:1px solid #ccc;background:#f7f7f9}
h1{font-size:15px;margin:0 0 4px}#controls{display:flex;gap:6px;align-items:center;
flex-wrap:wrap}#slider{width:320px}#clock{min-width:150px;font-variant-numeric:tabular-nums}
main{flex:1;display:flex;min-height:0}#cy{flex:1;min-width:0;background:#fff}
aside{width:320px;overflow:auto;border-left:1px solid #ccc;padding:8px;background:#fcfcfd}
#info table{border-collapse:collapse;width:100%}#info td{padding:2px 4px;
border-bottom:1px solid #eee;vertical-align:top}#info td:first-child{color:#666;width:40%}
#legend span{display:inline-block;width:11px;height:11px;border-radius:6px;
margin-right:4px;vertical-align:middle;border:1px solid #777}#legend div{margin:1px 0}
pre{white-space:pre-wrap;font-size:10px}#quizbox{background:#fff8e1;padding:6px;
border:1px solid #e0c870;margin-bottom:8px}#score{font-weight:bold}
button{cursor:pointer}
"""

APP = r"""
(function(){
'use strict';
var D = JSON.parse(document.getElementById('data').textContent);
var RC = D.roleColours, SC = D.stageColours;
var quiz = false, checked = false, revealed = false;
function fmtTime(t){return new Date(t*1000).toISOString().replace('T',' ').slice(0,16)+' UTC';}
function fmtUsd(x){return '$'+Math.round(x).toLocaleString('en-US');}
function esc(s){return String(s).replace(/[&<>]/g,function(c){return {'&':'&amp;','<':'&lt;','>':'&gt;'}[c];});}
var maxUsd = 1, minUsd = 1e30;
D.edges.forEach(function(e){ if(!e.hidden && e.usd>0){maxUsd=Math.max(maxUsd,e.usd);minUsd=Math.min(minUsd,e.usd);} });
var lmin = Math.log10(Math.max(minUsd,1)), lspan = Math.max(Math.log10(maxUsd)-lmin, 1e-9);
var els = [];
D.bands.forEach(function(b,i){
  els.push({group:'nodes', data:{id:'band'+i, label:b.chain}, classes:'band', locked:true,
            selectable:false, grabbable:false,
            position:{x:-150, y:(b.y0+b.y1)/2}});
});
D.nodes.forEach(function(n){
  els.push({group:'nodes', data:{id:n.id, label:n.label, shape:n.shape,
    fill:RC[n.truth.role]||'#f0f', ring:SC[n.truth.stage]||'#999',
    size: n.count>1 ? 30 : (n.service!=='none' ? 24 : 16), start:n.start},
    position:{x:n.x, y:n.y}, classes: n.count>1 ? 'bundle' : ''});
});
D.edges.forEach(function(e){
  var w = e.hidden ? 1.2 : 0.8 + 6*(Math.log10(Math.max(e.usd,1))-lmin)/lspan;
  els.push({group:'edges', data:{id:e.id, source:e.source, target:e.target, w:w,
    colour: e.hidden ? '#3b6fb6' : (e.truth.incident>=0 ? (SC[e.truth.stage]||'#999') : '#bbb'),
    start:e.start}, classes: e.hidden ? 'hidden-link' : ''});
});
var byId = {}; D.nodes.forEach(function(n){byId[n.id]=n;});
var eById = {}; D.edges.forEach(function(e){eById[e.id]=e;});
var cy = cytoscape({
  container: document.getElementById('cy'), elements: els, layout:{name:'preset'},
  minZoom: 0.05, maxZoom: 6,
  style: [
    {selector:'node', style:{'label':'data(label)','font-size':9,'text-valign':'bottom',
      'text-margin-y':3,'color':'#333','min-zoomed-font-size':7}},
    {selector:'node[fill]', style:{'shape':'data(shape)','background-color':'data(fill)',
      'border-color':'data(ring)','border-width':3,'width':'data(size)','height':'data(size)'}},
    {selector:'node.bundle', style:{'font-weight':'bold'}},
    {selector:'node.band', style:{'shape':'round-rectangle','background-opacity':0,
      'border-width':0,'width':10,'height':10,'font-size':16,'color':'#567',
      'text-valign':'center','text-halign':'left','font-weight':'bold','events':'no'}},
    {selector:'edge[colour]', style:{'width':'data(w)','line-color':'data(colour)',
      'target-arrow-color':'data(colour)','target-arrow-shape':'triangle',
      'arrow-scale':0.7,'curve-style':'bezier','opacity':0.7}},
    {selector:'edge.hidden-link', style:{'line-style':'dashed'}},
    {selector:'.future', style:{'display':'none'}},
    {selector:'node.quiz', style:{'background-color':'#cfd8dc','border-color':'#607d8b'}},
    {selector:'edge.quiz', style:{'line-color':'#9e9e9e','target-arrow-color':'#9e9e9e'}},
    {selector:'edge.quiz.hidden-link', style:{'display':'none'}},
    {selector:'node.picked', style:{'background-color':'#1e88e5','border-color':'#0d47a1'}},
    {selector:'node.right', style:{'border-color':'#2e7d32','border-width':6}},
    {selector:'node.wrong', style:{'border-color':'#c62828','border-width':6}},
    {selector:'node.missed', style:{'border-color':'#ff9800','border-width':6,
      'border-style':'dashed'}},
    {selector:':selected', style:{'overlay-color':'#ffeb3b','overlay-opacity':0.45,
      'overlay-padding':6}}
  ]
});
window.explorer = {cy:cy, data:D};
function fit(){ cy.fit(cy.elements(':visible'), 30); }
document.getElementById('fit').onclick = fit;
// time slider
var slider = document.getElementById('slider'), clock = document.getElementById('clock');
// the slider steps through the moments something happens, evenly (a dormancy of months
// takes one step), and the clock shows the real time
var times = {}; D.nodes.forEach(function(n){ times[n.start]=1; }); D.edges.forEach(function(e){ times[e.start]=1; });
times = Object.keys(times).map(Number).sort(function(a,b){ return a-b; });
if(!times.length) times = [0];
function tAt(v){ return times[Math.round((times.length-1)*v/1000)]; }
function applyTime(){
  var t = tAt(+slider.value);
  cy.batch(function(){
    cy.elements().forEach(function(el){
      var s = el.data('start'); if(s===undefined) return;
      el.toggleClass('future', s > t + 1e-6);
    });
  });
  var shown = cy.nodes().not('.band').not('.future').length;
  clock.textContent = fmtTime(t) + ' - ' + shown + ' of ' + D.nodes.length + ' nodes';
}
slider.addEventListener('input', applyTime);
var timer = null;
document.getElementById('play').onclick = function(){
  if(timer){ clearInterval(timer); timer=null; this.innerHTML='&#9654; play'; return; }
  if(+slider.value >= 1000) slider.value = 0;
  var btn = this; btn.textContent='pause';
  timer = setInterval(function(){
    slider.value = Math.min(1000, +slider.value + 8); applyTime();
    if(+slider.value >= 1000){ clearInterval(timer); timer=null; btn.innerHTML='&#9654; play'; }
  }, 60);
};
// details
var info = document.getElementById('info');
function rows(pairs){ return '<table>'+pairs.map(function(p){
  return '<tr><td>'+esc(p[0])+'</td><td>'+esc(p[1])+'</td></tr>';}).join('')+'</table>'; }
function showNode(n){
  var ins = cy.getElementById(n.id).incomers('edge'), outs = cy.getElementById(n.id).outgoers('edge');
  function total(c){ var s=0; c.forEach(function(e){ var d=eById[e.id()]; if(d && !d.hidden) s+=d.usd;}); return s; }
  var p = [['address', n.count>1 ? n.count+' addresses (bundle): '+n.addresses.slice(0,12).join(', ')+(n.count>12?', ...':'') : (n.name ? n.name+' (#'+n.addresses[0]+')' : '#'+n.addresses[0])],
           ['chain', n.chain], ['attribution', n.service==='none' ? 'none (unlabelled)' : n.service+(n.service_name?' ('+n.service_name+')':'')],
           ['first seen', fmtTime(n.start)], ['received', fmtUsd(total(ins))+' in '+ins.length+' transfer(s)'],
           ['sent', fmtUsd(total(outs))+' in '+outs.length+' transfer(s)']];
  if(!quiz || revealed){ p.push(['role (truth)', n.truth.role.replace(/_/g,' ')]);
    p.push(['stage (truth)', n.truth.stage]); p.push(["launderer's (truth)", n.truth.laundering?'yes':'no']); }
  info.innerHTML = '<b>address</b>'+rows(p);
}
function showEdge(e){
  var p;
  if(e.hidden){
    if(quiz && !revealed){ info.innerHTML=''; return; }
    p = [['hidden link (truth)', e.truth.link+' service: deposit to withdrawal'], ['time', fmtTime(e.start)]];
  } else {
    p = [['transaction', e.tx_id + (e.n>1 ? ' (and '+(e.n-1)+' more merged)' : '')], ['chain', e.chain],
         ['amount', e.value.toPrecision(6)+' '+e.asset], ['value', fmtUsd(e.usd)], ['time', fmtTime(e.start)]];
    if(!quiz || revealed){ p.push(['stage (truth)', e.truth.stage]); p.push(['incident (truth)', e.truth.incident]); }
  }
  info.innerHTML = '<b>transfer</b>'+rows(p);
}
cy.on('tap', 'node', function(ev){
  var n = byId[ev.target.id()]; if(!n) return;
  if(quiz && !checked) ev.target.toggleClass('picked');
  showNode(n);
});
cy.on('tap', 'edge', function(ev){ var e = eById[ev.target.id()]; if(e) showEdge(e); });
// search
var search = document.getElementById('search');
function find(q){
  q = String(q).trim().replace(/^#/, '').toLowerCase(); if(!q) return null;
  for(var i=0;i<D.nodes.length;i++){ var n=D.nodes[i];
    if(n.addresses.indexOf(+q)>=0 && /^[0-9]+$/.test(q)) return n;
    if(n.service_name && n.service_name.toLowerCase()===q) return n;
    if(n.name && n.name.toLowerCase()===q) return n; }
  return null;
}
search.addEventListener('change', function(){
  var n = find(search.value);
  if(!n){ info.innerHTML = '<p>No address "'+esc(search.value)+'" in this view.</p>'; return; }
  cy.elements().unselect(); var el = cy.getElementById(n.id); el.select();
  cy.animate({center:{eles:el}, zoom:Math.max(cy.zoom(),1.2)}, {duration:200});
  showNode(n);
});
// quiz
var qbox = document.getElementById('quizbox'), score = document.getElementById('score');
function setQuiz(on){
  quiz = on; checked = false; revealed = false; qbox.hidden = !on; score.textContent='';
  cy.elements().removeClass('picked right wrong missed');
  cy.elements().not('.band').toggleClass('quiz', on);
  document.getElementById('legend').style.visibility = on ? 'hidden' : 'visible';
  info.innerHTML = on ? '<p>Pick addresses by clicking them.</p>' : '';
}
document.getElementById('quiz').onclick = function(){ setQuiz(!quiz); };
document.getElementById('leave').onclick = function(){ setQuiz(false); };
function grade(){
  var picked = 0, right = 0, total = 0;
  D.nodes.forEach(function(n){
    var el = cy.getElementById(n.id), p = el.hasClass('picked');
    if(n.truth.laundering) total++;
    if(p){ picked++; if(n.truth.laundering) right++; }
    el.toggleClass('right', p && n.truth.laundering);
    el.toggleClass('wrong', p && !n.truth.laundering);
    el.toggleClass('missed', !p && n.truth.laundering);
  });
  return {picked:picked, right:right, total:total,
          precision: picked ? right/picked : 0, recall: total ? right/total : 0};
}
document.getElementById('check').onclick = function(){
  checked = true; var s = grade();
  score.textContent = 'You picked '+s.picked+': '+s.right+' are the launderer\u2019s (precision '+
    Math.round(100*s.precision)+'%); you found '+s.right+' of '+s.total+' (recall '+
    Math.round(100*s.recall)+'%). Green: right, red: wrong, dashed orange: missed.';
  window.explorer.score = s;
};
document.getElementById('reveal').onclick = function(){
  revealed = true; checked = true; grade(); cy.elements().removeClass('quiz');
  document.getElementById('legend').style.visibility = 'visible';
};
// legend
var roles = {}; D.nodes.forEach(function(n){ roles[n.truth.role]=1; });
var lg = '<b>role (fill)</b>';
Object.keys(RC).forEach(function(r){ if(roles[r]) lg += '<div><span style="background:'+RC[r]+'"></span>'+r.replace(/_/g,' ')+'</div>'; });
lg += '<b>stage (ring, edge)</b>';
Object.keys(SC).forEach(function(s){ lg += '<div><span style="background:#fff;border:3px solid '+SC[s]+'"></span>'+s+'</div>'; });
lg += '<b>shape</b><div>square exchange, hexagon mixer, diamond bridge, star OTC, triangle DEX, vee marketplace, circle plain address</div>';
lg += '<div>'+D.addresses+' addresses, '+D.transfers+' transfers'+(D.bundled ? ', '+D.bundled+' bundled' : '')+'</div>';
document.getElementById('legend').innerHTML = lg;
applyTime(); fit();
window.addEventListener('resize', function(){ cy.resize(); });
window.addEventListener('load', function(){ cy.resize(); fit(); });
})();
"""

TEST_HARNESS = r"""
(function(){
'use strict';
var m = /#test=(\w+)/.exec(location.hash); if(!m) return;
var stop = m[1], out = {errors: [], steps: {}};
window.addEventListener('error', function(e){ out.errors.push('error: '+e.message); });
window.addEventListener('securitypolicyviolation', function(e){ out.errors.push('csp: '+e.blockedURI); });
var ce = console.error; console.error = function(){ out.errors.push('console: '+[].join.call(arguments,' ')); ce.apply(console, arguments); };
function finish(){ var pre = document.createElement('pre'); pre.id='test-result'; pre.style.display='none';
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre); }
function $(id){ return document.getElementById(id); }
function shown(){ var cy = window.explorer.cy, fut = cy.$('.future');
  return {visible: cy.nodes().not('.band').not('.future').length,
          edges: cy.edges().not('.future').length, clock: $('clock').textContent,
          hidden_drawn: fut.slice(0, 50).filter(function(e){ return e.style('display') !== 'none'; }).length}; }
function run(){
  try {
    var X = window.explorer, cy = X.cy, D = X.data;
    var canvas = document.querySelector('#cy canvas');
    out.steps.render = {nodes: cy.nodes().not('.band').length, expected: D.nodes.length,
      edges: cy.edges().length, canvas: !!canvas && canvas.width > 0,
      visible: cy.nodes().not('.band').filter(function(e){ return e.style('display') !== 'none'; }).length};
    if(stop==='initial') return finish();
    var s = $('slider'); s.value = 0; s.dispatchEvent(new Event('input'));
    out.steps.slider0 = shown();
    s.value = 400; s.dispatchEvent(new Event('input'));
    out.steps.slider = shown();
    if(stop==='slider') return finish();
    s.value = 1000; s.dispatchEvent(new Event('input'));
    var thief = D.nodes.filter(function(n){ return n.truth.role==='thief'; })[0] || D.nodes[0];
    cy.getElementById(thief.id).select();
    cy.getElementById(thief.id).emit('tap');
    out.steps.click = {text: $('info').textContent};
    var q = $('search'); q.value = String(thief.addresses[0]); q.dispatchEvent(new Event('change'));
    out.steps.search = {selected: cy.$(':selected').map(function(e){ return e.id(); }), want: thief.id};
    if(stop==='click') return finish();
    $('quiz').click();
    out.steps.quiz_info = $('info').textContent;
    var picks = 0;
    D.nodes.forEach(function(n, i){ if((n.truth.laundering && i % 2 === 0) || (!n.truth.laundering && i % 5 === 0)){
      cy.getElementById(n.id).emit('tap'); picks++; } });
    cy.getElementById(thief.id).emit('tap');
    out.steps.quiz_click_info = $('info').textContent;
    cy.getElementById(thief.id).emit('tap');
    $('check').click();
    out.steps.quiz = {picks: picks, score: X.score, text: $('score').textContent};
    finish();
  } catch(e) { out.errors.push('harness: '+e.message); finish(); }
}
setTimeout(run, 300);
})();
"""
