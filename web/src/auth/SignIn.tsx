// The sign-in form. Every failure gets a sentence a person can act on; while the server asks
// us to wait (429), the button stays disabled and counts down.
import { useState, type FormEvent } from "react";
import { navigate } from "../router/history";
import { paths } from "../router/match";
import { usePageTitle } from "../library/usePageTitle";
import { AuthError, login } from "./authApi";
import { authErrorMessage } from "./authErrors";
import { useCountdown } from "./useCountdown";

export function SignIn({ next }: { next: string }) {
  usePageTitle("Sign in");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [waitUntil, setWaitUntil] = useState<number | null>(null);
  const wait = useCountdown(waitUntil);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy || wait > 0) return;
    setBusy(true);
    setError(null);
    try {
      await login(username, password);
      navigate(next, { replace: true });
    } catch (err) {
      const f = err instanceof AuthError ? err.failure : { status: 0, code: "network", message: "", retryAfter: null };
      setError(authErrorMessage(f, "signin"));
      if (f.status === 429 && f.retryAfter) setWaitUntil(Date.now() + f.retryAfter * 1000);
      if (f.code === "invalid_credentials") setPassword("");
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-card">
      <h1 tabIndex={-1}>Sign in to Tonearm</h1>
      <form onSubmit={submit} aria-describedby={error ? "signin-error" : undefined} noValidate>
        <div className="field">
          <label htmlFor="signin-username">Username</label>
          <input
            id="signin-username"
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="signin-password">Password</label>
          <input
            id="signin-password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        {error && (
          <p id="signin-error" className="form-error" role="alert">
            {error}
          </p>
        )}
        <button className="btn primary wide" type="submit" disabled={busy || wait > 0 || !username || !password}>
          {busy ? "Signing in…" : wait > 0 ? `Try again in ${wait} s` : "Sign in"}
        </button>
      </form>
      <p className="muted small">
        No account yet? Ask the server's admin. Listening rooms need no account:{" "}
        <a href={paths.rooms()}>join a room</a>.
      </p>
    </div>
  );
}
