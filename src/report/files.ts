/** File names of the report layer, in a module of their own so the CLI can name them without loading the charts (vega). */
export const REPORT_FILE = 'report.html';
export const CITY_JSON = 'city.json';
