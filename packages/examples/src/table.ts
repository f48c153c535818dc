// Prints rows of strings as an aligned plain-text table (no dependency, readable in any terminal).
export function printTable(rows: ReadonlyArray<Record<string, string>>): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0] as Record<string, string>);
  const width = (c: string) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length));
  const line = (cells: (c: string) => string) =>
    columns
      .map((c) => cells(c).padEnd(width(c)))
      .join('  ')
      .trimEnd();
  console.log(line((c) => c));
  console.log(line((c) => '-'.repeat(width(c))));
  for (const row of rows) console.log(line((c) => row[c] ?? ''));
}
