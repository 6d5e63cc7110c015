/**
 * The electrical network of a scenario's site (`site.network`): the network file loaded with the
 * transformer cap and the pilot mode of the scenario, and each charger of the site mapped to its
 * EVSE — by recorded charger id for replayed sessions (ACN-Data `station_id`s are the Caltech
 * EVSE ids), by position otherwise (charger c is the network's EVSE c).
 */
import { UserError } from '../core/errors.js';
import { loadSiteNetwork } from '../charging/siteNetwork.js';
import type { StationNetwork } from '../charging/station.js';
import { resolveScenarioPath, type Scenario } from './scenario.js';

export function scenarioSiteNetwork(sc: Scenario, chargers: readonly string[] | number): StationNetwork | null {
  const spec = sc.site.network;
  if (!spec) return null;
  const file = resolveScenarioPath(sc, spec.file);
  let net;
  try {
    net = loadSiteNetwork(file, { capKW: spec.transformerKW, continuous: spec.continuous });
  } catch (e) {
    if (e instanceof UserError) throw new UserError(e.lines.map((l) => `${sc.file}: site.network.file: ${l}`));
    throw e;
  }
  const n = typeof chargers === 'number' ? chargers : chargers.length;
  const evse = new Int32Array(n);
  if (typeof chargers === 'number') {
    if (n > net.n) throw new UserError([`${sc.file}: site.network: the site has ${n} chargers but ${spec.file} has ${net.n} EVSEs`]);
    for (let c = 0; c < n; c++) evse[c] = c;
  } else {
    const missing: string[] = [];
    chargers.forEach((id, c) => {
      const i = net.index.get(id);
      if (i === undefined) missing.push(id);
      else evse[c] = i;
    });
    if (missing.length) {
      throw new UserError([
        `${sc.file}: site.network: ${missing.length} charger id(s) of the replayed sessions are not EVSEs of ${spec.file}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
      ]);
    }
  }
  return { net, model: spec.model, evseOfCharger: evse };
}
