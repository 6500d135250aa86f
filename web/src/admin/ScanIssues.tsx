import { api } from "../api/client";
import { useApi } from "../library/useApi";

interface ScanIssue {
  path: string;
  reason: string;
}

/** The files the scanner skipped and why (`GET /api/library/issues`), folded away. */
export function ScanIssues({ version }: { version: number }) {
  const res = useApi(`issues:${version}`, (s) => api<{ total: number; items: ScanIssue[] }>("/api/library/issues", { signal: s }));
  if (!res.data || res.data.total === 0) return null;
  return (
    <details className="issues">
      <summary>
        {res.data.total} {res.data.total === 1 ? "file was" : "files were"} skipped
      </summary>
      <ul>
        {res.data.items.map((i) => (
          <li key={i.path}>
            <code>{i.path}</code>: {i.reason}
          </li>
        ))}
      </ul>
    </details>
  );
}
