/**
 * The city replay: an inline SVG map of the road network with the stations coloured by occupancy
 * and the EVs coloured by state, moved through the simulated day by a time slider and a play
 * button. Everything is computed here in Node, deterministically: the map projection, the road
 * path, each EV's track as segments (start and end time, start and end position, state) and the
 * stations' keyframes (queue and plugged EVs every `step` minutes from stations.csv). The page's
 * small script only looks up, for the slider's time, each EV's segment (binary search) and each
 * station's keyframe, and sets positions and colours.
 *
 * Limits, all stated on the page: EVs move in a straight line between the two ends of a trip (not
 * along the roads); at most MAX_EVS EVs are drawn (every k-th EV by id); roads are quantised to
 * the drawing's pixel grid, and a network larger than MAX_ROAD_SEGMENTS segments after that is
 * quantised more coarsely until it fits.
 */
import { STATE_NAMES } from '../charging/ev.js';
import { STATE_COLORS } from './charts.js';
import { column, num, type RunData } from './data.js';

export const MAX_EVS = 2000;
export const MAX_ROAD_SEGMENTS = 60_000;
/** Station keyframes: at most this many (stations × frames). */
export const MAX_STATION_CELLS = 400_000;
const WIDTH = 1000;

export interface Replay {
  /** the SVG (roads, stations, EVs) */
  svg: string;
  /** JSON of the frames and tracks, for the page script */
  data: string;
  notes: string[];
  drawnEvs: number;
  roadSegments: number;
}

interface Projection {
  x(lon: number): number;
  y(lat: number): number;
  height: number;
}

function projection(lats: number[], lons: number[]): Projection {
  let minLat = Infinity;
  let maxLat = -Infinity;
  let minLon = Infinity;
  let maxLon = -Infinity;
  for (const v of lats) {
    minLat = Math.min(minLat, v);
    maxLat = Math.max(maxLat, v);
  }
  for (const v of lons) {
    minLon = Math.min(minLon, v);
    maxLon = Math.max(maxLon, v);
  }
  if (!Number.isFinite(minLat)) minLat = maxLat = minLon = maxLon = 0;
  const kx = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const pad = 20;
  const w = Math.max(1e-9, (maxLon - minLon) * kx);
  const h = Math.max(1e-9, maxLat - minLat);
  const s = (WIDTH - 2 * pad) / Math.max(w, h);
  const height = Math.round(Math.max(200, h * s + 2 * pad));
  return { x: (lon) => pad + (lon - minLon) * kx * s, y: (lat) => height - pad - (lat - minLat) * s, height };
}

const q1 = (v: number) => Math.round(v * 10) / 10;

export function buildReplay(run: RunData): Replay | null {
  const geo = run.geometry;
  if (!geo) return null;
  const notes: string[] = [];
  const nodes = geo.nodes;
  const N = nodes.lat.length;
  const allLat = [...nodes.lat, ...geo.stations.map((s) => s.lat)];
  const allLon = [...nodes.lon, ...geo.stations.map((s) => s.lon)];
  const p = projection(allLat, allLon);
  const px = (pt: number): [number, number] | null => {
    if (pt < 0) return null;
    if (pt < N) return [q1(p.x(nodes.lon[pt]!)), q1(p.y(nodes.lat[pt]!))];
    const s = geo.stations[pt - N];
    return s ? [q1(p.x(s.lon)), q1(p.y(s.lat))] : null;
  };
  // roads: one path, quantised, duplicates and zero-length segments dropped
  let grid = 0.5;
  let segs: string[] = [];
  for (;;) {
    const seen = new Set<string>();
    segs = [];
    const q = (v: number) => Math.round(v / grid) * grid;
    for (let i = 0; i < geo.edges.length; i += 2) {
      const a = geo.edges[i]!;
      const b = geo.edges[i + 1]!;
      const ax = q(p.x(nodes.lon[a]!));
      const ay = q(p.y(nodes.lat[a]!));
      const bx = q(p.x(nodes.lon[b]!));
      const by = q(p.y(nodes.lat[b]!));
      if (ax === bx && ay === by) continue;
      const k = ax < bx || (ax === bx && ay < by) ? `${ax},${ay} ${bx},${by}` : `${bx},${by} ${ax},${ay}`;
      if (seen.has(k)) continue;
      seen.add(k);
      segs.push(`M${+ax.toFixed(1)} ${+ay.toFixed(1)}L${+bx.toFixed(1)} ${+by.toFixed(1)}`);
    }
    if (segs.length <= MAX_ROAD_SEGMENTS) break;
    grid *= 2;
  }
  if (grid > 0.5) notes.push(`The road network is drawn on a ${grid}-pixel grid (${segs.length} segments) to keep the page small.`);
  // EVs: every k-th by id
  const count = geo.evs.count;
  const k = Math.max(1, Math.ceil(count / MAX_EVS));
  if (k > 1) notes.push(`${Math.ceil(count / k)} of ${count} EVs are drawn (one in every ${k}, by id).`);
  const tr = geo.tracks;
  const horizon = run.summary.simulatedSeconds;
  // segments per drawn EV: [t0, t1, xa, ya, xb, yb, state]
  const per = new Map<number, number[]>();
  const lastPt = new Map<number, number>();
  const start = (ev: number) => {
    let a = per.get(ev);
    if (!a) {
      a = [];
      per.set(ev, a);
    }
    return a;
  };
  for (let ev = 0; ev < count; ev += k) {
    const home = px(geo.evs.initial[ev] ?? -1);
    if (home) start(ev).push(0, horizon, home[0], home[1], home[0], home[1], 0);
  }
  // an EV at a station is drawn on a small ring around it (a fixed angle per EV), not under it
  const at = (pt: number, ev: number): [number, number] | null => {
    const q = px(pt);
    if (!q || pt < N) return q;
    const ang = (ev * 2.399963) % (2 * Math.PI);
    return [q1(q[0] + 10 * Math.cos(ang)), q1(q[1] + 10 * Math.sin(ang))];
  };
  for (let i = 0; i < tr.t.length; i++) {
    const ev = tr.ev[i]!;
    if (ev % k !== 0) continue;
    const a = at(tr.a[i]!, ev) ?? at(lastPt.get(ev) ?? -1, ev);
    const b = at(tr.b[i]!, ev) ?? a;
    if (!a || !b) continue;
    lastPt.set(ev, tr.b[i]! >= 0 ? tr.b[i]! : tr.a[i]!);
    const segsOf = start(ev);
    const t = tr.t[i]!;
    if (segsOf.length) segsOf[segsOf.length - 6] = t; // the previous segment ends here
    segsOf.push(t, horizon, a[0], a[1], b[0], b[1], tr.state[i]!);
  }
  const evIds = [...per.keys()].sort((x, y) => x - y);
  // stations: keyframes of queue and plugged
  const S = geo.stations.length;
  const st = run.stations;
  let step = 1;
  let frames = 0;
  let queue: number[] = [];
  let plugged: number[] = [];
  if (st && st.rows.length) {
    const mi = column(st, 'minute', 'stations.csv');
    const si = column(st, 'station_id', 'stations.csv');
    const qi = column(st, 'queue', 'stations.csv');
    const li = column(st, 'plugged', 'stations.csv');
    let minutes = 0;
    for (const r of st.rows) minutes = Math.max(minutes, num(r[mi]) + 1);
    while (Math.ceil(minutes / step) * S > MAX_STATION_CELLS) step *= 2;
    if (step > 1) notes.push(`Station colours change every ${step} simulated minutes.`);
    frames = Math.ceil(minutes / step);
    queue = new Array<number>(frames * S).fill(0);
    plugged = new Array<number>(frames * S).fill(0);
    for (const r of st.rows) {
      const m = num(r[mi]);
      if (m % step !== 0) continue;
      const f = m / step;
      const s = num(r[si]);
      if (s < 0 || s >= S) continue;
      queue[f * S + s] = num(r[qi]);
      plugged[f * S + s] = num(r[li]);
    }
  } else notes.push('No stations.csv in this results folder: stations are drawn without occupancy.');
  const parts: string[] = [];
  parts.push(`<svg id="replay-map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${p.height}" width="100%" role="img" aria-label="city replay map">`);
  parts.push(`<rect width="${WIDTH}" height="${p.height}" fill="#fbfbf8"/>`);
  parts.push(`<path class="roads" fill="none" stroke="#c9c9c9" stroke-width="0.8" stroke-linecap="round" d="${segs.join('')}"/>`);
  parts.push('<g class="evs">');
  for (const ev of evIds) {
    const s = per.get(ev)!;
    parts.push(`<circle class="ev" data-ev="${ev}" cx="${s[2]}" cy="${s[3]}" r="2.6" fill="${STATE_COLORS[s[6]!]}"/>`);
  }
  parts.push('</g><g class="stations">');
  geo.stations.forEach((s, i) => {
    const c = px(N + i)!;
    parts.push(`<g class="station" data-station="${i}"><title>${esc(s.name)} (${s.chargers} chargers)</title><circle class="st-queue" cx="${c[0]}" cy="${c[1]}" r="14" fill="none" stroke="#e15759" stroke-width="0"/><rect class="st" x="${q1(c[0] - 5)}" y="${q1(c[1] - 5)}" width="10" height="10" fill="#ffffff" stroke="#333" stroke-width="1"/></g>`);
  });
  parts.push('</g></svg>');
  const data = {
    horizon,
    states: STATE_NAMES,
    colors: STATE_COLORS,
    ev: evIds,
    seg: evIds.map((e) => per.get(e)!),
    chargers: geo.stations.map((s) => s.chargers),
    step,
    frames,
    queue,
    plugged,
  };
  return { svg: parts.join(''), data: JSON.stringify(data), notes, drawnEvs: evIds.length, roadSegments: segs.length };
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The page script of the replay (no network, no dependencies). */
export const REPLAY_SCRIPT = `(function(){
var D=JSON.parse(document.getElementById('replay-data').textContent);
var slider=document.getElementById('replay-slider'),label=document.getElementById('replay-time'),btn=document.getElementById('replay-play');
var evs=document.querySelectorAll('#replay-map .ev'),sts=document.querySelectorAll('#replay-map .station');
var counts=document.getElementById('replay-counts');
function occ(f){if(f<=0)return '#ffffff';if(f<0.5)return '#fdd49e';if(f<1)return '#fc8d59';return '#d7301f';}
function hhmm(t){var m=Math.floor(t/60),d=Math.floor(m/1440),h=Math.floor((m%1440)/60),mm=m%60;return (d?'day '+(d+1)+' ':'')+(h<10?'0':'')+h+':'+(mm<10?'0':'')+mm;}
function show(t){
  var n=D.states.map(function(){return 0;});
  for(var i=0;i<evs.length;i++){var s=D.seg[i],lo=0,hi=s.length/7-1;
    while(lo<hi){var mid=(lo+hi+1)>>1;if(s[mid*7]<=t)lo=mid;else hi=mid-1;}
    var o=lo*7,t0=s[o],t1=s[o+1],u=t1>t0?Math.min(1,Math.max(0,(t-t0)/(t1-t0))):0;
    var x=s[o+2]+(s[o+4]-s[o+2])*u,y=s[o+3]+(s[o+5]-s[o+3])*u,st=s[o+6];if(t<s[0]){evs[i].style.display='none';continue;}
    evs[i].style.display='';evs[i].setAttribute('cx',x.toFixed(1));evs[i].setAttribute('cy',y.toFixed(1));evs[i].setAttribute('fill',D.colors[st]);evs[i].setAttribute('data-state',D.states[st]);n[st]++;}
  if(D.frames>0){var f=Math.min(D.frames-1,Math.floor(t/60/D.step)),S=D.chargers.length;
    for(var j=0;j<sts.length;j++){var q=D.queue[f*S+j],p=D.plugged[f*S+j];
      sts[j].querySelector('.st').setAttribute('fill',occ(D.chargers[j]?p/D.chargers[j]:0));
      sts[j].querySelector('.st-queue').setAttribute('stroke-width',q>0?Math.min(6,1+q).toString():'0');
      sts[j].setAttribute('data-occupancy',p+'/'+D.chargers[j]+' plugged, '+q+' queued');}}
  label.textContent=hhmm(t);
  counts.textContent=D.states.map(function(s,i){return s+' '+n[i];}).join(' \\u00b7 ');
}
var timer=null;
slider.addEventListener('input',function(){show(Number(slider.value)*60);});
btn.addEventListener('click',function(){
  if(timer){clearInterval(timer);timer=null;btn.textContent='Play';return;}
  btn.textContent='Pause';
  timer=setInterval(function(){var v=Number(slider.value)+5;if(v>Number(slider.max)){v=0;}slider.value=String(v);show(v*60);},100);
});
show(Number(slider.value)*60);
})();`;
