# Writes notebooks/run.ipynb (cells without outputs) with nbformat: /usr/bin/python3 scripts/build-notebooks.py
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
nbf.write(nb, str(pathlib.Path(__file__).resolve().parent.parent / 'notebooks' / 'run.ipynb'))
