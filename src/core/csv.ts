/**
 * The project's CSV reader (RFC 4180: quoted fields, doubled quotes, CRLF or LF): replayed session
 * files (with the line of each row, for one-line errors), and the files evsim itself wrote (compare
 * reads sweep indexes, the Parquet copies convert the tables, the report reads every table).
 */

function read(text: string, skipBlank: boolean): { rows: string[][]; lines: number[] } {
  const rows: string[][] = [];
  const lines: number[] = [];
  let row: string[] = [];
  let field = '';
  let q = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (q) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else q = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"') q = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (!skipBlank || row.length > 1 || row[0] !== '') {
        rows.push(row);
        lines.push(rowLine);
      }
      row = [];
      line++;
      rowLine = line;
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
    lines.push(rowLine);
  }
  return { rows, lines };
}

/** Every row as an array of raw strings; a final line break adds no row. */
export function parseCsvRows(text: string): string[][] {
  return read(text, false).rows;
}

/** The rows with the 1-based line of the file on which each starts; blank lines are skipped. */
export function parseCsvWithLines(text: string): { rows: string[][]; lines: number[] } {
  return read(text, true);
}
