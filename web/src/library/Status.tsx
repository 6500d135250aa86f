import { humanError } from "./humanError";

/** A loading line or an error with a retry button, announced politely to screen readers. */
export function Status({ loading, error, what, retry }: { loading?: boolean; error?: unknown; what: string; retry?: () => void }) {
  if (error) {
    return (
      <div className="notice error" role="alert">
        <p>{humanError(error, what)}</p>
        {retry && (
          <button type="button" className="btn" onClick={retry}>
            Try again
          </button>
        )}
      </div>
    );
  }
  if (loading) {
    return (
      <p className="muted" role="status">
        Loading {what}…
      </p>
    );
  }
  return null;
}
