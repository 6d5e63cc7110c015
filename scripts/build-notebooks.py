# Writes notebooks/run.ipynb and notebooks/sweep.ipynb (cells without outputs) with nbformat: /usr/bin/python3 scripts/build-notebooks.py
import nbformat as nbf
nb = nbf.v4.new_notebook()
md = nbf.v4.new_markdown_cell
code = nbf.v4.new_code_cell
nb.cells = [
md("""# One evsim run or ledger comparison

Loads a results folder written by `evsim run` (a single run, or a comparison with one folder per
ledger stack) with pandas and draws the report's main figures: the stack comparison, load and
queues at the stations over the day, wait and time-in-system distributions, ledger latency CDFs per
backend, energy and revenue per station, and (when the run wrote `events.csv`) EVs by state.

Set `EVSIM_RESULTS` to the folder (default `results/monaco`, what `npx evsim run` writes).
Run headless: `EVSIM_RESULTS=results/monaco /usr/bin/jupyter nbconvert --to notebook --execute notebooks/run.ipynb --output-dir /tmp/nb`."""),
code("""import json, os
from pathlib import Path
import pandas as pd
import matplotlib.pyplot as plt

root = Path(os.environ.get('EVSIM_RESULTS', 'results/monaco'))
if not root.is_absolute() and not root.exists():
    root = Path('..') / root          # executed from notebooks/
manifest = json.loads((root / 'manifest.json').read_text())
if manifest['kind'] == 'comparison':
    stacks = {s['name']: root / s['name'] for s in manifest['stacks']}
else:
    stacks = {manifest.get('stack', 'run'): root}
summaries = {k: json.loads((d / 'summary.json').read_text()) for k, d in stacks.items()}
first = next(iter(stacks))
print(manifest['scenario']['name'], 'seed', manifest['seed'], '·', len(stacks), 'stack(s):', ', '.join(stacks))"""),
md("## Stack comparison (the city figures and the ledger's)"),
code("""rows = []
for k, s in summaries.items():
    b = s['ledger']['backends']
    rows.append({
        'stack': k,
        'sessions': s['sessions']['count'],
        'abandoned': s['sessions']['abandoned'],
        'mean wait (s)': round(s['sessions']['meanWaitSeconds'], 1),
        'demand met (%)': round(s['sessions']['demandMetPct'], 2),
        'auth delay (s)': round(s['ledger']['meanAuthorizationDelaySeconds'], 3),
        'tx submitted': sum(x['submitted'] for x in b),
        'latency p95 (s), max over backends': round(max([x['latencySeconds']['p95'] for x in b] or [0]), 3),
    })
comparison = pd.DataFrame(rows).set_index('stack')
comparison"""),
md("## Stations over the day (first stack): plugged EVs, queue and power, city-wide"),
code("""st = pd.read_csv(stacks[first] / 'stations.csv')
city = st.groupby('minute')[['queue', 'plugged', 'power_kw']].sum()
fig, ax = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
ax[0].plot(city.index / 60, city['plugged'], label='plugged EVs')
ax[0].plot(city.index / 60, city['queue'], label='queued EVs')
ax[0].set_ylabel('EVs'); ax[0].legend()
ax[1].plot(city.index / 60, city['power_kw'], color='tab:red')
ax[1].set_ylabel('power (kW)'); ax[1].set_xlabel('simulated hour')
fig.suptitle('All stations'); fig.tight_layout()"""),
code("""top = st.groupby('station_id')['power_kw'].sum().nlargest(6).index
fig, ax = plt.subplots(figsize=(9, 3.5))
for sid in top:
    s = st[st.station_id == sid]
    ax.plot(s['minute'] / 60, s['queue'], label=f'station {sid}')
ax.set_xlabel('simulated hour'); ax.set_ylabel('queue (EVs)'); ax.set_title('Queue at the six busiest stations'); ax.legend(ncol=3)"""),
md("## Wait and time in system"),
code("""ses = pd.read_csv(stacks[first] / 'sessions.csv')
plugged = ses.dropna(subset=['plugged_s'])
tis = (ses['unplugged_s'] - ses['arrived_s']).dropna()
fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
ax[0].hist(plugged['wait_s'] / 60, bins=30); ax[0].set_xlabel('wait before plug-in (min)'); ax[0].set_ylabel('sessions')
ax[1].hist(tis / 60, bins=30, color='tab:green'); ax[1].set_xlabel('time in system (min)')
fig.tight_layout()
print(ses['status'].value_counts().to_dict())"""),
md("## Ledger latency CDF per backend and stack"),
code("""fig, ax = plt.subplots(figsize=(9, 4))
for k, d in stacks.items():
    f = d / 'ledger.csv'
    if not f.exists():
        continue
    led = pd.read_csv(f, usecols=['backend', 'role', 'latency_s'])
    for (backend, role), g in led.dropna(subset=['latency_s']).groupby(['backend', 'role']):
        x = g['latency_s'].sort_values().to_numpy()
        if len(x) == 0 or backend == 'none':
            continue
        ax.step(x, [(i + 1) / len(x) for i in range(len(x))], where='post', label=f'{k}: {backend} ({role})')
ax.set_xscale('log'); ax.set_xlabel('latency to finality (s)'); ax.set_ylabel('share of transactions'); ax.legend(fontsize=7)"""),
md("## Energy and money per station (first stack)"),
code("""flows = ses.groupby('station_id').agg(energy_kwh=('kwh_delivered', 'sum'), revenue=('price', 'sum'), sessions=('session_id', 'count')).sort_values('energy_kwh', ascending=False)
fig, ax = plt.subplots(figsize=(9, 3.5))
ax.bar(flows.index.astype(str), flows['energy_kwh']); ax.set_xlabel('station'); ax.set_ylabel('energy delivered (kWh)')
ax2 = ax.twinx(); ax2.plot(flows.index.astype(str), flows['revenue'], 'o', color='tab:orange'); ax2.set_ylabel('paid (currency units)')
flows.head()"""),
md("## EVs by state over the day (needs `output.eventsLog: true`)"),
code("""ev = stacks[first] / 'events.csv'
if ev.exists():
    e = pd.read_csv(ev)
    delta = pd.concat([e.assign(state=e['to'], d=1), e.assign(state=e['from'], d=-1)])
    counts = delta.pivot_table(index='time_s', columns='state', values='d', aggfunc='sum', fill_value=0).cumsum()
    counts['idle'] = counts.get('idle', 0) + summaries[first]['fleet']['size']   # every EV starts idle
    counts.index = counts.index / 3600
    states = [c for c in ['driving', 'calculating', 'go', 'waiting', 'charging'] if c in counts.columns]
    counts[states].plot(figsize=(9, 3.5), xlabel='simulated hour', ylabel='EVs', drawstyle='steps-post', title='EVs by state (idle EVs not shown)')
else:
    print('events.csv not written; rerun with --set output.eventsLog=true')"""),
]
nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
import pathlib
out = pathlib.Path(__file__).resolve().parent.parent / 'notebooks'
nbf.write(nb, str(out / 'run.ipynb'))

sw = nbf.v4.new_notebook()
sw.cells = [
md("""# An evsim sweep

Loads a sweep folder written by `evsim sweep` (`index.csv`: one row per run; `aggregate.csv`: per
combination of the swept parameters and metric, n, mean, sd and the 95 % Student-t CI;
`paired.csv`: paired differences against the reference levels over runs that share their seeds) and
draws the report's sweep figures: each headline metric against each swept parameter with its 95 %
band, and the paired differences with their CIs.

Set `EVSIM_SWEEP` to the folder (default `results/sweeps/monaco-ledgers`, what
`evsim sweep sweeps/monaco-ledgers.yaml --out results/sweeps/monaco-ledgers` writes)."""),
code("""import os
from pathlib import Path
import pandas as pd
import matplotlib.pyplot as plt

root = Path(os.environ.get('EVSIM_SWEEP', 'results/sweeps/monaco-ledgers'))
if not root.is_absolute() and not root.exists():
    root = Path('..') / root          # executed from notebooks/
index = pd.read_csv(root / 'index.csv')
agg = pd.read_csv(root / 'aggregate.csv')
stats = ['metric', 'n', 'mean', 'sd', 'ci95_lo', 'ci95_hi', 'ci95_half']
params = [c for c in agg.columns if c not in stats]
print(len(index), 'runs;', index['status'].value_counts().to_dict(), '· swept:', ', '.join(params))"""),
md("## Runs"),
code("""cols = [c for c in ['run', *params, 'replication', 'seed', 'status', 'sessions.meanWaitSeconds', 'sessions.abandoned', 'sessions.demandMetPct', 'wall_s'] if c in index.columns]
index[cols].head(12)"""),
md("## Each headline metric against each swept parameter (mean, 95 % CI band)"),
code("""headline = ['sessions.meanWaitSeconds', 'sessions.p95WaitSeconds', 'sessions.abandoned', 'sessions.demandMetPct',
            'sessions.meanTravelToStationSeconds', 'stations.utilizationPct', 'ledger.meanAuthorizationDelaySeconds',
            'ledger.backends.0.latencySeconds.p95', 'hub.meanTimeInSystemSeconds']
metrics = [m for m in headline if m in set(agg['metric']) and agg.loc[agg['metric'] == m, 'mean'].nunique() > 1]
for m in metrics:
    d = agg[agg['metric'] == m]
    fig, axes = plt.subplots(1, len(params), figsize=(4.5 * len(params), 3.2), squeeze=False)
    for ax, p in zip(axes[0], params):
        others = [q for q in params if q != p]
        groups = d.groupby(others) if others else [('all', d)]
        for key, g in groups:
            g = g.sort_values(p)
            x = g[p].astype(str) if g[p].dtype == object else g[p]
            ax.plot(x, g['mean'], marker='o', label=str(key))
            ax.fill_between(x, g['ci95_lo'], g['ci95_hi'], alpha=0.2)
        ax.set_xlabel(p); ax.set_ylabel(m)
        if others: ax.legend(fontsize=6, title=', '.join(others), title_fontsize=6)
    fig.suptitle(m); fig.tight_layout()
print(len(metrics), 'metrics vary over the sweep:', ', '.join(metrics) or '-')"""),
md("## Paired differences against the reference levels (common random numbers)"),
code("""f = root / 'paired.csv'
if f.exists():
    paired = pd.read_csv(f)
    sel = paired[paired['metric'].isin(metrics)]
    display(sel.assign(significant=(sel['ci95_lo'] > 0) | (sel['ci95_hi'] < 0)).head(30))
else:
    print('no paired.csv (the sweep named no reference level)')"""),
]
sw.metadata['kernelspec'] = nb.metadata['kernelspec']
nbf.write(sw, str(out / 'sweep.ipynb'))
