// First-admin setup: the server prints a one-time token at start-up; whoever has it creates
// the first admin here, and is then signed in as that admin.
import { useState, type FormEvent } from "react";
import { navigate } from "../router/history";
import { paths } from "../router/match";
import { usePageTitle } from "../library/usePageTitle";
import { AuthError, login, setupAdmin } from "./authApi";
import { authErrorMessage, validateSetup } from "./authErrors";

export function Setup() {
  usePageTitle("Set up Tonearm");
  const [form, setForm] = useState({ token: "", username: "", password: "", confirm: "" });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [k]: e.target.value }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    const invalid = validateSetup(form);
    if (invalid) {
      setError(invalid);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await setupAdmin(form.token.trim(), form.username, form.password);
      await login(form.username, form.password);
      navigate(paths.home(), { replace: true });
    } catch (err) {
      const f = err instanceof AuthError ? err.failure : { status: 0, code: "network", message: "", retryAfter: null };
      setError(authErrorMessage(f, "setup"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-card">
      <h1 tabIndex={-1}>Welcome to Tonearm</h1>
      <p className="muted">
        Create the first admin account. The one-time setup token is printed in the server's log when it starts.
      </p>
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="setup-token">Setup token</label>
          <input
            id="setup-token"
            autoComplete="one-time-code"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={form.token}
            onChange={set("token")}
          />
        </div>
        <div className="field">
          <label htmlFor="setup-username">Admin username</label>
          <input
            id="setup-username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            maxLength={64}
            value={form.username}
            onChange={set("username")}
          />
        </div>
        <div className="field">
          <label htmlFor="setup-password">Password</label>
          <input
            id="setup-password"
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            aria-describedby="setup-password-hint"
            value={form.password}
            onChange={set("password")}
          />
          <span id="setup-password-hint" className="hint">
            At least 8 characters.
          </span>
        </div>
        <div className="field">
          <label htmlFor="setup-confirm">Repeat password</label>
          <input
            id="setup-confirm"
            type="password"
            autoComplete="new-password"
            required
            value={form.confirm}
            onChange={set("confirm")}
          />
        </div>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button className="btn primary wide" type="submit" disabled={busy}>
          {busy ? "Creating the admin…" : "Create admin and sign in"}
        </button>
      </form>
    </div>
  );
}
