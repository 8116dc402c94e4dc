#include "reports/page_template.h"

namespace srlab::reports {
namespace {

const char* const kHead = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 8px; } h2 { font-size: 17px; margin: 24px 0 8px; } h3 { font-size: 15px; margin: 16px 0 6px; }
#errors { background: #fdd; border: 1px solid #c00; padding: 6px; }
table.metrics { border-collapse: collapse; margin: 6px 0; }
table.metrics th, table.metrics td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
table.metrics td:first-child, table.metrics th:first-child { text-align: left; }
table.metrics th { background: #f2f2f2; cursor: pointer; user-select: none; }
table.metrics th[data-dir="asc"]::after { content: " \25B2"; } table.metrics th[data-dir="desc"]::after { content: " \25BC"; }
td.best { font-weight: bold; background: #e3f5e3; }
.pd-point:hover circle { r: 7; } .pd-point:hover text { font-weight: bold; }
.compare-row { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; }
.slider { position: relative; overflow: hidden; cursor: ew-resize; touch-action: none; background: #000; }
.slider img { position: absolute; left: 0; top: 0; width: 100%; height: 100%; user-select: none; pointer-events: none; }
.slider .handle { position: absolute; top: 0; bottom: 0; width: 2px; margin-left: -1px; background: #ff0; }
.slider .mark { position: absolute; border: 1px solid #f0f; pointer-events: none; }
.pixelated, canvas { image-rendering: pixelated; }
.zoom canvas { border: 1px solid #999; width: 256px; height: 256px; }
.zoom figure, .crops figure { display: inline-block; margin: 0 6px 6px 0; text-align: center; font-size: 12px; }
.crops canvas { border: 1px solid #ccc; }
pre { background: #f6f6f6; padding: 8px; overflow: auto; max-height: 320px; }
label { margin-right: 8px; }
</style>
</head>
<body data-errors="0" data-ready="0">
<h1>@TITLE@</h1>
<div id="errors" hidden></div>
<main id="app"></main>
<script type="application/json" id="report-data">@DATA@</script>
)HTML";

const char* const kScript = R"JS(<script>
(function () {
  'use strict';
  const errors = [];
  function fail(msg) {
    errors.push(String(msg));
    const box = document.getElementById('errors');
    box.hidden = false;
    box.textContent = 'Report problems: ' + errors.join('; ');
    document.body.dataset.errors = String(errors.length);
  }
  window.addEventListener('error', function (ev) { fail(ev.message || 'script error'); });
  function el(tag, attrs, kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') e.textContent = v; else if (k === 'class') e.className = v; else e.setAttribute(k, v);
    }
    for (const c of kids || []) e.append(c);
    return e;
  }
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const D = JSON.parse(document.getElementById('report-data').textContent);
  const params = new URLSearchParams(location.hash.slice(1));
  const startPos = clamp(parseFloat(params.get('slider') || '50') || 0, 0, 100);
  const LABEL = { psnr: 'PSNR (dB) \u2191', ssim: 'SSIM \u2191', lpips: 'LPIPS \u2193', niqe: 'NIQE \u2193' };
  const DIGITS = { psnr: 2, ssim: 4, lpips: 4, niqe: 3 };
  const images = new Map();  // src -> HTMLImageElement (loaded once, shared by canvases)
  function image(src) {
    if (!images.has(src)) {
      const im = new Image();
      im.addEventListener('error', function () { fail('cannot load image ' + src); });
      im.src = src;
      images.set(src, im);
    }
    return images.get(src);
  }
  function whenLoaded(im, fn) {
    if (im.complete && im.naturalWidth > 0) fn(); else im.addEventListener('load', fn, { once: true });
  }

  // ---- sortable metric table ---------------------------------------------------------------------------
  function sortRows(body, col, th) {
    const asc = th.dataset.dir !== 'asc';
    for (const h of th.parentNode.children) delete h.dataset.dir;
    th.dataset.dir = asc ? 'asc' : 'desc';
    const key = function (tr) {
      const c = tr.cells[col];
      if (col === 0) return c.textContent;
      const v = c.dataset.v;
      return v === '' ? NaN : v === 'inf' ? Infinity : parseFloat(v);
    };
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const x = key(a), y = key(b);
      if (typeof x === 'string') return asc ? x.localeCompare(y) : y.localeCompare(x);
      if (isNaN(x)) return 1;
      if (isNaN(y)) return -1;
      return asc ? x - y : y - x;
    });
    for (const r of rows) body.append(r);
  }
  function metricTable(ds) {
    const head = el('tr', {}, [el('th', { text: 'method' })]);
    for (const c of ds.columns) head.append(el('th', { text: LABEL[c] || c, title: 'click to sort' }));
    const body = el('tbody');
    for (const r of ds.rows) {
      const tr = el('tr', { class: 'method-row', 'data-method': r.method }, [el('td', { text: r.method })]);
      for (const c of ds.columns) {
        const v = r.values[c];
        const td = el('td', { text: v === null || v === undefined ? '\u2013' : typeof v === 'string' ? v : v.toFixed(DIGITS[c]) });
        td.dataset.v = v === null || v === undefined ? '' : String(v);
        if (r.best.indexOf(c) >= 0) { td.className = 'best'; td.title = 'best of the column'; }
        tr.append(td);
      }
      body.append(tr);
    }
    Array.from(head.children).forEach(function (th, i) { th.addEventListener('click', function () { sortRows(body, i, th); }); });
    return el('table', { class: 'metrics', 'data-dataset': ds.name }, [el('thead', {}, [head]), body]);
  }

  // ---- before/after slider with nearest-neighbour zoom -------------------------------------------------------
  function sourceOf(im, m) { return m === 'HR' ? im.hr : m === 'LR' ? im.lr : im.sr[m]; }
  function choices(ds) { return D.methods.filter(function (m) { return ds.images.length && ds.images[0].sr[m]; }).concat(['HR', 'LR']); }
  function select(options, value, cls) {
    const s = el('select', { class: cls });
    options.forEach(function (o, i) { s.append(el('option', { value: String(i), text: String(o) })); });
    s.value = String(Math.max(0, options.indexOf(value)));
    return s;
  }
  function slider(ds, pair, id) {
    const opts = choices(ds);
    const imgSel = select(ds.images.map(function (im) { return im.name; }), null, 'image-select');
    const aSel = select(opts, pair[0], 'left-select'), bSel = select(opts, pair[1], 'right-select');
    const zoomSel = select([2, 4], 4, 'zoom-select');
    const box = el('div', { class: 'slider', id: id });
    const under = el('img', { alt: 'right' }), over = el('img', { alt: 'left' });
    const handle = el('div', { class: 'handle' }), mark = el('div', { class: 'mark' });
    box.append(under, over, handle, mark);
    const range = el('input', { type: 'range', min: '0', max: '100', step: '0.5', value: String(startPos), class: 'position' });
    const cA = el('canvas', { width: '256', height: '256' }), cB = el('canvas', { width: '256', height: '256' });
    const capA = el('figcaption'), capB = el('figcaption');
    const zoom = el('div', { class: 'zoom' }, [el('figure', {}, [cA, capA]), el('figure', {}, [cB, capB])]);
    let pos = startPos, centre = null;
    const zp = (params.get('zoom') || '').split(',').map(Number);
    if (zp.length === 2 && zp.every(isFinite)) centre = { x: zp[0], y: zp[1] };
    function current() { return ds.images[Number(imgSel.value)]; }
    function setPos(p) {
      pos = clamp(p, 0, 100);
      over.style.clipPath = 'inset(0 ' + (100 - pos) + '% 0 0)';
      handle.style.left = pos + '%';
      range.value = String(pos);
      box.dataset.position = String(pos);
    }
    function drawZoom() {
      const im = current(), z = Number(zoomSel.options[zoomSel.selectedIndex].text);
      if (!centre) centre = im.focus ? { x: im.focus[0], y: im.focus[1] } : { x: im.w / 2, y: im.h / 2 };
      const side = 256 / z, x0 = clamp(Math.round(centre.x - side / 2), 0, Math.max(0, im.w - side));
      const y0 = clamp(Math.round(centre.y - side / 2), 0, Math.max(0, im.h - side));
      const dw = parseFloat(box.style.width) / im.w;  // the box may not be laid out yet
      Object.assign(mark.style, { left: x0 * dw + 'px', top: y0 * dw + 'px', width: side * dw + 'px', height: side * dw + 'px' });
      [[cA, capA, aSel], [cB, capB, bSel]].forEach(function (t) {
        const m = opts[Number(t[2].value)], src = image(sourceOf(im, m));
        t[1].textContent = m + ' ' + z + '\u00d7 at (x ' + x0 + ', y ' + y0 + ')';
        whenLoaded(src, function () {
          const f = src.naturalWidth / im.w, ctx = t[0].getContext('2d');
          ctx.imageSmoothingEnabled = false;
          ctx.clearRect(0, 0, 256, 256);
          ctx.drawImage(src, x0 * f, y0 * f, side * f, side * f, 0, 0, 256, 256);
        });
      });
    }
    function load() {
      const im = current(), w = Math.min(im.w, 640);
      box.style.width = w + 'px';
      box.style.height = Math.round(w * im.h / im.w) + 'px';
      over.src = sourceOf(im, opts[Number(aSel.value)]);
      under.src = sourceOf(im, opts[Number(bSel.value)]);
      over.className = opts[Number(aSel.value)] === 'LR' ? 'pixelated' : '';
      under.className = opts[Number(bSel.value)] === 'LR' ? 'pixelated' : '';
      for (const i of [over, under]) i.onerror = function () { fail('cannot load image ' + i.getAttribute('src')); };
      drawZoom();
    }
    let down = null;
    const fraction = function (ev) { const r = box.getBoundingClientRect(); return 100 * (ev.clientX - r.left) / r.width; };
    box.addEventListener('pointerdown', function (ev) { down = { x: ev.clientX, y: ev.clientY, moved: false }; box.setPointerCapture(ev.pointerId); });
    box.addEventListener('pointermove', function (ev) {
      if (!down) return;
      if (Math.abs(ev.clientX - down.x) + Math.abs(ev.clientY - down.y) > 3) down.moved = true;
      if (down.moved) setPos(fraction(ev));
    });
    box.addEventListener('pointerup', function (ev) {
      if (down && !down.moved) {  // a click picks the zoom centre
        const r = box.getBoundingClientRect(), im = current();
        centre = { x: (ev.clientX - r.left) * im.w / r.width, y: (ev.clientY - r.top) * im.h / r.height };
        drawZoom();
      }
      down = null;
    });
    range.addEventListener('input', function () { setPos(Number(range.value)); });
    imgSel.addEventListener('change', function () { centre = null; load(); });
    for (const s of [aSel, bSel]) s.addEventListener('change', load);
    zoomSel.addEventListener('change', drawZoom);
    setPos(startPos);
    load();
    const controls = el('div', {}, [el('label', { text: 'image ' }, [imgSel]), el('label', { text: 'left ' }, [aSel]),
      el('label', { text: 'right ' }, [bSel]), el('label', { text: 'zoom ' }, [zoomSel])]);
    const hint = el('div', { text: 'Drag on the image (or the range below) to move the divider; click to pick the zoom region.' });
    return el('div', { class: 'compare' }, [controls, hint, el('div', { class: 'compare-row' }, [el('div', {}, [box, range]), zoom])]);
  }

  // ---- crop grid: LR (nearest) | methods | HR ----------------------------------------------------------------------
  function cropGrid(ds) {
    const grid = el('div', { class: 'crops' });
    for (const c of ds.crops) {
      const im = ds.images[c.image], z = Math.max(1, Math.ceil(128 / c.size)), T = c.size * z;
      const row = el('div', { class: 'crop-row' });
      for (const m of ['LR'].concat(D.crop_methods).concat(['HR'])) {
        const cv = el('canvas', { width: String(T), height: String(T) });
        const src = image(sourceOf(im, m));
        whenLoaded(src, function () {
          const f = src.naturalWidth / im.w, ctx = cv.getContext('2d');
          ctx.imageSmoothingEnabled = false;
          ctx.drawImage(src, c.x * f, c.y * f, c.size * f, c.size * f, 0, 0, T, T);
        });
        row.append(el('figure', {}, [cv, el('figcaption', { text: m === 'LR' ? 'LR (nearest)' : m })]));
      }
      grid.append(el('div', { text: im.name + ' at (y ' + c.y + ', x ' + c.x + '), ' + c.size + ' px' }), row);
    }
    return grid;
  }

  function provenance(p) {
    const out = el('div');
    for (const [k, v] of Object.entries(p || {})) {
      out.append(el('h3', { text: k }));
      out.append(typeof v === 'string' ? el('pre', { text: v }) : el('pre', { text: JSON.stringify(v, null, 2) }));
    }
    return out;
  }

  const app = document.getElementById('app');
  let n = 0;
  for (const ds of D.datasets) {
    app.append(el('h2', { text: ds.name + ' \u00d7' + ds.scale + ' (' + ds.images.length + ' images)' }));
    app.append(metricTable(ds));
    if (ds.plot_svg) {
      const fig = el('div', { class: 'plot' });
      fig.innerHTML = ds.plot_svg;
      app.append(el('h3', { text: 'Perception\u2013distortion plot' }), fig);
    }
    if (ds.images.length) {
      for (const pair of D.pairs) {
        app.append(el('h3', { text: 'Before/after: ' + pair[0] + ' | ' + pair[1] }));
        app.append(slider(ds, pair, 'slider-' + n++));
      }
    }
    if (ds.crops.length) app.append(el('h3', { text: 'Crops' }), cropGrid(ds));
  }
  app.append(el('h2', { text: 'Provenance' }), provenance(D.provenance));
  if (params.get('view') === 'slider' && n > 0) {  // only the first slider (and its heading), e.g. for screenshots
    const keep = document.getElementById('slider-0').parentNode.parentNode.parentNode;
    for (const c of Array.from(app.children)) if (c !== keep && c.nextSibling !== keep) c.style.display = 'none';
  }
  for (let i = 0; i < n; ++i) {  // where each slider is drawn (CSS px), for tests and scripts
    const r = document.getElementById('slider-' + i).getBoundingClientRect();
    document.getElementById('slider-' + i).dataset.rect = [r.left, r.top, r.width, r.height].map(Math.round).join(',');
  }
  document.body.dataset.ready = '1';
})();
</script>
</body>
</html>
)JS";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

}  // namespace

std::string page_html(const std::string& title_html, const std::string& json) {
  // The data goes in last so that no placeholder inside it is replaced.
  const std::string head = replace_all(kHead, "@TITLE@", title_html);
  const size_t p = head.find("@DATA@");
  return head.substr(0, p) + json + head.substr(p + 6) + kScript;
}

}  // namespace srlab::reports
