/**
 * The page's own script, inlined into the report (no network at view time). It lays out what
 * model.ts computed: the topology as SVG, node cards, ladders (built when a scenario is first
 * opened, so a whole catalog loads fast), the filter, and for `serve --ui` the live list fed by
 * server-sent events. Plain ES2017, no template literals (it sits inside one here).
 * (Over 250 lines: one script inlined in the page, which cannot import.)
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var ORDER = { agent: 0, proxy: 1, 'fleet-server': 2, elasticsearch: 3 };
  var NAMES = { agent: 'Elastic Agent', proxy: 'Proxy', 'fleet-server': 'Fleet Server', elasticsearch: 'Elasticsearch', client: 'Client' };
  var svgCount = 0;

  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; });
  }
  function nice(n) { return NAMES[n] || n; }
  function arrow(leg) { return nice(leg.from) + ' \u2192 ' + nice(leg.to) + (/ \(policy\)$/.test(leg.key || '') ? ' (policy)' : ''); }
  function glyph(status) { return status === 'ok' ? '\u2713' : status === 'fail' ? '\u2717' : '\u2013'; }

  function nodesOf(legs) {
    var seen = [];
    legs.forEach(function (l) { [l.from, l.to].forEach(function (n) { if (seen.indexOf(n) < 0) seen.push(n); }); });
    return seen.sort(function (a, b) {
      var ra = a in ORDER ? ORDER[a] : 10, rb = b in ORDER ? ORDER[b] : 10;
      return ra - rb;
    });
  }

  /** Legs between the same two nodes are drawn once, the worst result winning. */
  function edgesOf(legs) {
    var byKey = {};
    var out = [];
    var rank = { fail: 2, skip: 1, ok: 0 };
    // One arc per pair of components: the policy's legs share the arc of enrollment's, the worst showing.
    legs.forEach(function (l) {
      var k = l.from + '->' + l.to;
      var e = byKey[k];
      if (!e) { byKey[k] = l; out.push(l); }
      else if (rank[l.status] > rank[e.status]) { out[out.indexOf(e)] = l; byKey[k] = l; }
    });
    return out;
  }

  function edgeLines(l) {
    if (l.status === 'ok') return ['\u2713 ' + (l.tls ? 'TLS ' + l.tls : 'works'), ''];
    if (l.status === 'skip') return ['not attempted', ''];
    return ['\u2717 ' + (l.alert || 'fails'), l.rejectedBy ? 'rejected by ' + nice(l.rejectedBy) : ''];
  }

  function presents(node, legs) {
    for (var i = 0; i < legs.length; i++) if (legs[i].to === node && legs[i].serverCertificate) return legs[i].serverCertificate.subject;
    for (var j = 0; j < legs.length; j++) {
      var c = legs[j].clientCertificate;
      if (legs[j].from === node && c && c.presented && c.subject) return c.subject;
    }
    return '';
  }
  function cn(subject) { var m = /CN=([^,]+)/.exec(subject || ''); return m ? m[1] : subject; }

  /** The topology twice: across for wide screens, down for narrow ones (CSS shows one). */
  function topology(legs, label) {
    return '<div class="topo">' + drawTopology(legs, label, false) + drawTopology(legs, label, true) + '</div>';
  }

  function drawTopology(legs, label, vertical) {
    var id = 'm' + (++svgCount);
    var nodes = nodesOf(legs);
    var edges = edgesOf(legs);
    var bw = vertical ? 230 : 190, bh = 62;
    var arcs = edges.filter(function (e) { return Math.abs(nodes.indexOf(e.from) - nodes.indexOf(e.to)) > 1; });
    var W, H, pos = {};
    if (vertical) {
      var gapY = bh + 92;
      W = 20 + bw + 150 + arcs.length * 60;
      H = 20 + (nodes.length - 1) * gapY + bh + 20;
      nodes.forEach(function (n, i) { pos[n] = { x: 20, y: 20 + i * gapY }; });
    } else {
      var gapX = nodes.length > 1 ? Math.max(bw + 180, 0) : 0;
      W = 40 + (nodes.length - 1) * gapX + bw;
      H = 30 + bh + (arcs.length ? 34 + (arcs.length - 1) * 52 + 18 : 20);
      nodes.forEach(function (n, i) { pos[n] = { x: 20 + i * gapX, y: 30 }; });
    }
    var colors = { ok: '#1a7f37', fail: '#cf222e', skip: '#6e7781' };
    var parts = ['<svg class="topology ' + (vertical ? 'v' : 'h') + '" viewBox="0 0 ' + W + ' ' + H + '" style="max-width:' + W + 'px" role="img" aria-labelledby="' + id + 't"><title id="' + id + 't">' + esc(label) + '</title><defs>'];
    Object.keys(colors).forEach(function (k) {
      parts.push('<marker id="' + id + k + '" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="' + colors[k] + '"/></marker>');
    });
    parts.push('</defs>');
    function text(x, y, anchor, cls, t) { return t ? '<text x="' + x + '" y="' + y + '" text-anchor="' + anchor + '" class="' + cls + '">' + esc(t) + '</text>' : ''; }
    var arcIndex = 0;
    edges.forEach(function (e) {
      var a = nodes.indexOf(e.from), b = nodes.indexOf(e.to);
      var color = colors[e.status];
      var stroke = ' stroke="' + color + '" stroke-width="' + (e.status === 'fail' ? 4 : 3) + '"' + (e.status === 'skip' ? ' stroke-dasharray="7 6"' : '') + ' marker-end="url(#' + id + e.status + ')"';
      var lines = edgeLines(e);
      var cls = 'edge ' + e.status;
      var A = pos[e.from], B = pos[e.to];
      if (Math.abs(a - b) <= 1) {
        if (vertical) {
          var down = a < b, cx = A.x + bw / 2;
          var y1 = down ? A.y + bh : A.y, y2 = down ? B.y : B.y + bh;
          parts.push('<line x1="' + cx + '" y1="' + (y1 + 3) + '" x2="' + cx + '" y2="' + (y2 - 3) + '"' + stroke + '/>');
          parts.push(text(cx + 14, (y1 + y2) / 2 - 2, 'start', cls, lines[0]) + text(cx + 14, (y1 + y2) / 2 + 16, 'start', 'edge2 ' + e.status, lines[1]));
        } else {
          var fwd = a < b, cy = A.y + bh / 2;
          var x1 = fwd ? A.x + bw : A.x, x2 = fwd ? B.x : B.x + bw;
          parts.push('<line x1="' + (x1 + 3) + '" y1="' + cy + '" x2="' + (x2 - 3) + '" y2="' + cy + '"' + stroke + '/>');
          parts.push(text((x1 + x2) / 2, cy - 10, 'middle', cls, lines[0]) + text((x1 + x2) / 2, cy + 22, 'middle', 'edge2 ' + e.status, lines[1]));
        }
      } else {
        var k = arcIndex++;
        if (vertical) {
          var sx = A.x + bw, sy = A.y + bh / 2, ty = B.y + bh / 2, out = A.x + bw + 70 + k * 60;
          parts.push('<path d="M' + (sx + 2) + ',' + sy + ' C' + out + ',' + sy + ' ' + out + ',' + ty + ' ' + (sx + 4) + ',' + ty + '" fill="none"' + stroke + '/>');
          var my = (sy + ty) / 2;
          parts.push(text(out - 18, my - 2, 'start', cls, lines[0]) + text(out - 18, my + 16, 'start', 'edge2 ' + e.status, lines[1]));
        } else {
          var depth = A.y + bh + 34 + k * 52;
          var sx2 = A.x + bw / 2, tx = B.x + bw / 2, sy2 = A.y + bh;
          parts.push('<path d="M' + sx2 + ',' + (sy2 + 2) + ' C' + sx2 + ',' + (depth + 8) + ' ' + tx + ',' + (depth + 8) + ' ' + tx + ',' + (sy2 + 4) + '" fill="none"' + stroke + '/>');
          parts.push(text((sx2 + tx) / 2, depth + 2, 'middle', cls, lines[0] + (lines[1] ? ' \u00b7 ' + lines[1] : '')));
        }
      }
    });
    nodes.forEach(function (n) {
      var bad = edges.some(function (e) { return e.status === 'fail' && e.rejectedBy === n; });
      var p = pos[n], shown = presents(n, legs);
      parts.push('<g class="node' + (bad ? ' rejecting' : '') + '"><rect x="' + p.x + '" y="' + p.y + '" width="' + bw + '" height="' + bh + '" rx="10"/>' +
        text(p.x + bw / 2, p.y + 27, 'middle', 'name', nice(n) + (bad ? ' \u2717' : '')) +
        text(p.x + bw / 2, p.y + 47, 'middle', 'sub', shown ? 'presents ' + cn(shown) : 'presents no certificate') + '</g>');
    });
    parts.push('</svg>');
    return parts.join('');
  }

  function certBlock(c, generated) {
    if (!c) return '<span class="muted">none</span>';
    var expired = generated && c.notAfter < generated;
    var early = generated && c.notBefore && c.notBefore > generated;
    return '<div class="cert"><div><span class="k">subject</span> ' + esc(c.subject) + '</div>' +
      '<div><span class="k">issuer</span> ' + esc(c.issuer) + '</div>' +
      '<div><span class="k">SANs</span> ' + (c.san && c.san.length ? esc(c.san.join(', ')) : '<span class="muted">none (CN only)</span>') + '</div>' +
      '<div><span class="k">valid</span> ' + (c.notBefore ? esc(c.notBefore.slice(0, 10)) + ' to ' : 'until ') + esc(c.notAfter.slice(0, 10)) +
      (expired ? ' <strong class="bad-text">expired</strong>' : early ? ' <strong class="bad-text">not yet valid</strong>' : '') + '</div></div>';
  }

  function caList(list) {
    if (!list) return '<span class="muted">the system roots</span>';
    if (!list.length) return '<span class="muted">no CA</span>';
    return '<ul class="cas">' + list.map(function (n) { return '<li>' + esc(n) + '</li>'; }).join('') + '</ul>';
  }

  function nodeCards(legs, generated) {
    return '<div class="nodes">' + nodesOf(legs).map(function (n) {
      var rows = [];
      legs.forEach(function (l) {
        if (l.status === 'skip') return;
        if (l.to === n) {
          rows.push('<dt>presents to ' + esc(nice(l.from)) + '</dt><dd>' + certBlock(l.serverCertificate, generated) + '</dd>');
          var asked = l.verifiedWith ? l.verifiedWith.server : null;
          rows.push('<dt>checks ' + esc(nice(l.from)) + '\u2019s certificate against</dt><dd>' + (asked ? caList(asked) : '<span class="muted">asks for no client certificate</span>') + '</dd>');
        }
        if (l.from === n) {
          var c = l.clientCertificate;
          var asked = l.verifiedWith && l.verifiedWith.server;
          var sent = !c || (!c.presented && !asked) ? '<span class="muted">none: not asked for</span>'
            : c.presented ? esc(c.subject || 'a certificate')
            : (c.subject ? '<span class="warn-text">withheld</span> ' + esc(c.subject) : '<span class="warn-text">none configured</span>') + (c.why ? '<div class="muted">' + esc(c.why) + '</div>' : '');
          rows.push('<dt>presents to ' + esc(nice(l.to)) + ' (client certificate)</dt><dd>' + sent + '</dd>');
          var v = l.verifiedWith && l.verifiedWith.client;
          if (v) rows.push('<dt>verifies ' + esc(nice(l.to)) + ' with (' + esc(v.mode) + ')</dt><dd>' + caList(v.authorities) + '</dd>');
        }
      });
      return '<div class="card"><h3 class="cardname">' + esc(nice(n)) + '</h3>' + (rows.length ? '<dl>' + rows.join('') + '</dl>' : '<p class="muted">no connection of its own was attempted</p>') + '</div>';
    }).join('') + '</div>';
  }

  function ms(at, first) {
    if (at == null) return '';
    var d = at - first;
    return '+' + (d < 10 ? d.toFixed(2) : d < 100 ? d.toFixed(1) : Math.round(d)) + ' ms';
  }

  function ladder(leg) {
    var rows = leg.rows || [];
    if (!rows.length) return '<p class="muted">Nothing crossed the wire on this leg.</p>';
    var first = rows[0].at || 0;
    var html = ['<ol class="ladder" aria-label="' + esc('Messages between ' + nice(leg.from) + ' and ' + nice(leg.to)) + '">',
      '<li class="lhead" aria-hidden="true"><span class="t"></span><span class="lane"><b class="l">' + esc(nice(leg.from)) + '<small>client</small></b><b class="r">' + esc(nice(leg.to)) + '<small>server</small></b></span></li>'];
    rows.forEach(function (r) {
      var who = r.side === 'client' ? leg.from : leg.to;
      var other = r.side === 'client' ? leg.to : leg.from;
      var dets = r.details.map(function (d) { return '<span class="det">' + esc(d) + '</span>'; }).join('');
      if (r.kind === 'msg') {
        html.push('<li class="row msg ' + (r.side === 'client' ? 'right' : 'left') + ' ' + r.tone + '"><span class="t">' + ms(r.at, first) + '</span><span class="lane">' +
          '<span class="lbl"><span class="sr">' + esc(nice(who) + ' to ' + nice(other) + ': ') + '</span>' + esc(r.label) + '</span>' + dets + '<span class="arrow" aria-hidden="true"></span></span></li>');
      } else if (r.kind === 'note') {
        html.push('<li class="row note ' + (r.side === 'client' ? 'left' : 'right') + '"><span class="t">' + ms(r.at, first) + '</span><span class="lane"><span class="logbox"><span class="who">' + esc(nice(r.label)) + ' logs</span>' +
          r.details.map(function (d) { return '<code>' + esc(d) + '</code>'; }).join('') + '</span></span></li>');
      } else {
        html.push('<li class="row mark ' + r.tone + '"><span class="t">' + ms(r.at, first) + '</span><span class="lane"><span class="banner">' + (r.tone === 'bad' ? '\u2717 ' : '') + esc(r.label) + dets + '</span></span></li>');
      }
    });
    html.push('</ol>');
    return html.join('');
  }

  function logsList(leg) {
    var keys = Object.keys(leg.logs || {});
    if (!keys.length) return '';
    return '<div class="logs">' + keys.map(function (k) {
      return '<div><span class="who">' + esc(nice(k)) + '</span>' + leg.logs[k].split('\n').map(function (l) { return '<code>' + esc(l) + '</code>'; }).join('') + '</div>';
    }).join('') + '</div>';
  }

  function legBlock(leg, open) {
    return '<div class="leg ' + leg.status + '"><details' + (open ? ' open' : '') + ' data-ladder><summary><span class="pill ' + leg.status + '">' + glyph(leg.status) + ' ' + (leg.status === 'ok' ? 'ok' : leg.status === 'fail' ? 'fails' : 'skipped') + '</span> <strong>' + esc(arrow(leg)) + '</strong> <span class="verdict">' + esc(leg.verdict) + '</span></summary>' +
      '<div class="legbody"><p class="url">' + esc(leg.url) + '</p>' + ladder(leg) + (leg.rows.some(function (r) { return r.kind === 'note'; }) ? '' : logsList(leg)) + '</div></details></div>';
  }

  function scenarioBody(s, generated, openFirst) {
    var failing = null;
    s.legs.forEach(function (l) { if (!failing && l.status === 'fail') failing = l; });
    var html = [topology(s.legs, s.id + ' (TLS ' + s.tls + '): ' + s.legs.map(function (l) { return arrow(l) + ' ' + l.verdict; }).join('; ')), nodeCards(s.legs, generated)];
    if (s.mismatches && s.mismatches.length) html.push('<div class="mismatch"><strong>Not as the scenario expects:</strong><ul>' + s.mismatches.map(function (m) { return '<li>' + esc(m) + '</li>'; }).join('') + '</ul></div>');
    html.push('<div class="legs">' + s.legs.map(function (l) { return legBlock(l, openFirst && l === (failing || s.legs[0])); }).join('') + '</div>');
    if (s.command && s.command.length) html.push('<details class="cmd"><summary>install command</summary><pre>elastic-agent install ' + esc(s.command.join(' \\\n  ')) + '</pre></details>');
    return html.join('');
  }

  window.FTH = { esc: esc, topology: topology, nodeCards: nodeCards, ladder: ladder, legBlock: legBlock, scenarioBody: scenarioBody };

  function chips(s) {
    return s.legs.map(function (l) { return '<span class="chip ' + l.status + '" title="' + esc(arrow(l) + ': ' + l.verdict) + '">' + glyph(l.status) + ' ' + esc(arrow(l)) + '</span>'; }).join('');
  }

  function initReport(data) {
    var main = document.getElementById('content');
    var generated = data.generated;
    var html = [];
    if (data.kind === 'flow') {
      html.push('<section class="flow-single">' + scenarioBody(data.scenarios[0], generated, true) + '</section>');
      main.innerHTML = html.join('');
      return;
    }
    var flows = data.scenarios.filter(function (s) { return s.flow; });
    if (flows.length) {
      var versions = [];
      flows.forEach(function (s) { if (versions.indexOf(s.tls) < 0) versions.push(s.tls); });
      versions.sort().reverse();
      html.push('<section class="flows" aria-labelledby="flows-h"><div class="flows-head"><h2 id="flows-h">The two flows of Elastic\u2019s page</h2>');
      if (versions.length > 1) {
        html.push('<fieldset class="seg"><legend>TLS version</legend>' + versions.map(function (v, i) {
          return '<label><input type="radio" name="flow-tls" value="' + esc(v) + '"' + (i === 0 ? ' checked' : '') + '> TLS ' + esc(v) + '</label>';
        }).join('') + '</fieldset>');
      }
      html.push('</div><div class="flow-cols">');
      ['one-way', 'mutual'].forEach(function (f) {
        flows.filter(function (s) { return s.flow === f; }).forEach(function (s) {
          html.push('<article class="flow-col" data-tls="' + esc(s.tls) + '"' + (s.tls === versions[0] ? '' : ' hidden') + '><h3>' + (f === 'one-way' ? 'One-way TLS' : 'Mutual TLS') + ' <span class="muted">TLS ' + esc(s.tls) + '</span></h3>' + scenarioBody(s, generated, false) + '</article>');
        });
      });
      html.push('</div></section>');
    }
    var legKeys = [];
    data.scenarios.forEach(function (s) { s.legs.forEach(function (l) { if (legKeys.indexOf(l.key) < 0) legKeys.push(l.key); }); });
    var tlsList = [];
    data.scenarios.forEach(function (s) { if (tlsList.indexOf(s.tls) < 0) tlsList.push(s.tls); });
    html.push('<section class="catalog" aria-labelledby="cat-h"><h2 id="cat-h">Scenarios</h2><form class="filters" role="search" aria-label="Filter the scenarios" onsubmit="return false">' +
      '<label>Show <select id="f-result"><option value="">all runs</option><option value="fails">a leg fails</option><option value="works">every leg works</option><option value="unexpected">not as expected</option></select></label>' +
      '<label>Failing leg <select id="f-leg"><option value="">any</option>' + legKeys.map(function (k) { var p = k.split('->'); return '<option value="' + esc(k) + '">' + esc(nice(p[0]) + ' \u2192 ' + nice(p[1])) + '</option>'; }).join('') + '</select></label>' +
      '<label>TLS <select id="f-tls"><option value="">any</option>' + tlsList.sort().map(function (v) { return '<option value="' + esc(v) + '">' + esc(v) + '</option>'; }).join('') + '</select></label>' +
      '<label class="grow">Text <input id="f-text" type="search" placeholder="id, title, alert, log line\u2026"></label>' +
      '<output id="f-count" aria-live="polite"></output></form><ol class="scenarios" id="list">');
    data.scenarios.forEach(function (s, i) {
      var fails = s.legs.some(function (l) { return l.status === 'fail'; });
      html.push('<li class="sc' + (s.pass ? '' : ' unexpected') + '" data-i="' + i + '"><details><summary>' +
        '<span class="pill ' + (fails ? 'fail' : 'ok') + '">' + (fails ? '\u2717 fails' : '\u2713 works') + '</span>' +
        '<span class="sid">' + esc(s.id) + '</span><span class="tls">TLS ' + esc(s.tls) + '</span>' +
        (s.pass ? '<span class="expect ok">as expected</span>' : '<span class="expect bad">NOT as expected</span>') +
        '<span class="stitle">' + esc(s.title) + '</span><span class="chips">' + chips(s) + '</span></summary><div class="body"></div></details></li>');
    });
    html.push('</ol></section>');
    main.innerHTML = html.join('');

    var items = Array.prototype.slice.call(document.querySelectorAll('#list > li'));
    var text = data.scenarios.map(function (s) {
      return [s.id, s.title, 'tls ' + s.tls].concat(s.legs.map(function (l) {
        return [l.verdict, l.alert || '', Object.keys(l.logs || {}).map(function (k) { return l.logs[k]; }).join(' ')].join(' ');
      })).join(' ').toLowerCase();
    });
    var count = document.getElementById('f-count');
    function apply() {
      var result = document.getElementById('f-result').value;
      var leg = document.getElementById('f-leg').value;
      var tls = document.getElementById('f-tls').value;
      var words = document.getElementById('f-text').value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      data.scenarios.forEach(function (s, i) {
        var fails = s.legs.filter(function (l) { return l.status === 'fail'; });
        var ok = (!result || (result === 'fails' ? fails.length > 0 : result === 'works' ? fails.length === 0 : !s.pass)) &&
          (!leg || fails.some(function (l) { return l.key === leg; })) &&
          (!tls || s.tls === tls) &&
          words.every(function (w) { return text[i].indexOf(w) >= 0; });
        items[i].hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = shown + ' of ' + data.scenarios.length + ' runs shown';
    }
    ['f-result', 'f-leg', 'f-tls', 'f-text'].forEach(function (id) {
      var el = document.getElementById(id);
      el.addEventListener('input', apply);
      el.addEventListener('change', apply);
    });
    apply();
    document.addEventListener('toggle', function (ev) {
      var d = ev.target;
      if (!d.open || !d.parentNode || !d.parentNode.classList || !d.parentNode.classList.contains('sc')) return;
      var body = d.querySelector('.body');
      if (body && !body.firstChild) body.innerHTML = scenarioBody(data.scenarios[Number(d.parentNode.getAttribute('data-i'))], generated, true);
    }, true);
    Array.prototype.forEach.call(document.querySelectorAll('input[name=flow-tls]'), function (r) {
      r.addEventListener('change', function () {
        Array.prototype.forEach.call(document.querySelectorAll('.flow-col'), function (c) { c.hidden = c.getAttribute('data-tls') !== r.value; });
      });
    });
  }

  function initLive(data) {
    var main = document.getElementById('content');
    main.innerHTML = '<section aria-labelledby="live-h"><h2 id="live-h">Connections</h2><p id="live-status" class="muted" aria-live="polite">connecting\u2026</p><ol class="live" id="live"></ol></section>';
    var list = document.getElementById('live');
    var status = document.getElementById('live-status');
    var seen = {};
    var source = new EventSource(data.events || 'events');
    source.addEventListener('open', function () { status.textContent = 'waiting for connections to the fakes (' + (data.endpoints || []).join(', ') + ')'; });
    source.addEventListener('error', function () { status.textContent = 'disconnected from the harness; retrying\u2026'; });
    source.addEventListener('connection', function (ev) {
      var c = JSON.parse(ev.data);
      var li = seen[c.id];
      if (!li) {
        li = document.createElement('li');
        li.className = 'conn';
        seen[c.id] = li;
        list.insertBefore(li, list.firstChild);
        status.textContent = Object.keys(seen).length + ' connection(s) seen';
      }
      var wasOpen = li.querySelector('details') ? li.querySelector('details').open : true;
      li.setAttribute('data-status', c.leg.status);
      li.innerHTML = '<p class="conn-head"><span class="pill ' + c.leg.status + '">' + glyph(c.leg.status) + ' ' + esc(c.state) + '</span> <strong>' + esc(c.remote) + ' \u2192 ' + esc(nice(c.leg.to)) + '</strong> <span class="muted">' + esc(c.local) + ', ' + esc(c.started) + '</span></p>' + legBlock(c.leg, wasOpen);
    });
  }

  var el = document.getElementById('report-data');
  if (el) {
    var data = JSON.parse(el.textContent);
    if (data.kind === 'live') initLive(data); else initReport(data);
  }
})();
`;
