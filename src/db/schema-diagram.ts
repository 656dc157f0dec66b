// The schema diagram's source (Graphviz DOT), read from a migrated database's catalog: never drawn by hand.
import type { Pool } from 'pg';

interface Column {
  table: string;
  column: string;
  type: string;
  nullable: boolean;
  key: string;
}

interface ForeignKey {
  table: string;
  column: string;
  target: string;
}

const COLUMNS = `
SELECT c.table_name AS table, c.column_name AS column,
  CASE WHEN c.data_type = 'USER-DEFINED' THEN c.udt_name ELSE c.data_type END AS type,
  c.is_nullable = 'YES' AS nullable,
  coalesce((SELECT string_agg(CASE tc.constraint_type WHEN 'PRIMARY KEY' THEN 'PK' WHEN 'UNIQUE' THEN 'UQ' ELSE 'FK' END, ' '
                              ORDER BY tc.constraint_type DESC)
            FROM information_schema.key_column_usage k
            JOIN information_schema.table_constraints tc USING (constraint_schema, constraint_name)
            WHERE k.table_schema = c.table_schema AND k.table_name = c.table_name AND k.column_name = c.column_name), '') AS key
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name <> 'schema_migrations'
ORDER BY c.table_name, c.ordinal_position`;

const FOREIGN_KEYS = `
SELECT cl.relname AS table, a.attname AS column, ref.relname AS target
FROM pg_constraint con
JOIN pg_class cl ON cl.oid = con.conrelid
JOIN pg_class ref ON ref.oid = con.confrelid
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
WHERE con.contype = 'f' AND cl.relnamespace = 'public'::regnamespace
ORDER BY 1, 2`;

const GROUPS: [string, string, RegExp][] = [
  ['sales', 'Sales (3NF)', /^(regions|categories|payment_methods|products|customers|orders|order_items)$/],
  ['runs', 'Loads and their history', /^(refresh_|data_version|version_orders)/],
];

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export async function schemaDot(pool: Pool): Promise<string> {
  const columns = (await pool.query<Column>(COLUMNS)).rows;
  const foreignKeys = (await pool.query<ForeignKey>(FOREIGN_KEYS)).rows;
  const tables = [...new Set(columns.map((c) => c.table))];
  const node = (table: string) => {
    const rows = columns
      .filter((c) => c.table === table)
      .map(
        (c) =>
          `<tr><td align="left" port="${c.column}">${c.key ? `<b>${escapeHtml(c.column)}</b>` : escapeHtml(c.column)}</td>` +
          `<td align="left">${escapeHtml(c.type)}${c.nullable ? '' : ' not null'}</td><td>${c.key}</td></tr>`,
      );
    return `    ${table} [label=<<table border="0" cellborder="1" cellspacing="0"><tr><td colspan="3" bgcolor="#dde6f0"><b>${table}</b></td></tr>${rows.join('')}</table>>];`;
  };
  const lines = [
    'digraph schema {',
    '  graph [rankdir=LR, fontname="Helvetica", fontsize=11];',
    '  node [shape=plain, fontname="Helvetica", fontsize=10];',
  ];
  for (const [id, label, pattern] of GROUPS) {
    lines.push(`  subgraph cluster_${id} {`, `    label="${label}";`, ...tables.filter((t) => pattern.test(t)).map(node), '  }');
  }
  lines.push(...tables.filter((t) => !GROUPS.some(([, , pattern]) => pattern.test(t))).map(node));
  lines.push(...foreignKeys.map((fk) => `  ${fk.table}:${fk.column} -> ${fk.target};`), '}', '');
  return lines.join('\n');
}
