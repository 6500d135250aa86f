//! What the user reads when a command fails: one sentence saying what is wrong and how to fix
//! it, never a backtrace (anyhow's `Debug` prints one when `RUST_BACKTRACE` is set, which is
//! for our bugs, not a user's missing database). The failures a user causes — bad
//! configuration, a database that is down or missing, a port in use, a data folder that
//! cannot be written — get their fix named; anything else prints its cause chain on one line.

use tonearm_server::ServeError;
use tonearm_store::StoreError;

/// The one-line message for `err`, fix included where the cause is the user's to fix.
pub fn explain(err: &anyhow::Error) -> String {
    for cause in err.chain() {
        if let Some(fix) = cause
            .downcast_ref::<ServeError>()
            .and_then(serve_error)
            .or_else(|| cause.downcast_ref::<StoreError>().and_then(store_error))
            .or_else(|| cause.downcast_ref::<figment::Error>().map(config_error))
        {
            return fix;
        }
    }
    one_line(&format!("{err:#}"))
}

fn serve_error(e: &ServeError) -> Option<String> {
    Some(match e {
        ServeError::Store(s) => return store_error(s),
        ServeError::Bind(addr, io) if io.kind() == std::io::ErrorKind::AddrInUse => format!(
            "cannot listen on {addr}: the port is already in use (another Tonearm, or another \
             program); stop that one, or choose another address with --listen"
        ),
        ServeError::Bind(addr, io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            format!(
                "cannot listen on {addr}: permission denied (ports below 1024 need privileges); \
                 choose a port above 1023 with --listen"
            )
        }
        ServeError::Bind(addr, io) => format!(
            "cannot listen on {addr}: {io}; choose an address this machine has with --listen"
        ),
        ServeError::DataDir(dir, io) => format!(
            "cannot use {} for Tonearm's data: {io}; choose a folder you can write with --data \
             (or TONEARM_DATA)",
            dir.display()
        ),
        ServeError::Redis(url, cause) => format!(
            "cannot reach Redis at {url}: {cause}; start Redis there, fix redis.url \
             (TONEARM_REDIS_URL), or unset it to run on one node"
        ),
        _ => return None,
    })
}

fn store_error(e: &StoreError) -> Option<String> {
    Some(match e {
        StoreError::NoDatabase { server, name } => format!(
            "PostgreSQL at {server} has no database {name:?}; create it (createdb {name}, or \
             CREATE DATABASE in psql) or point database.url (TONEARM_DATABASE_URL) at one that \
             exists"
        ),
        StoreError::Unreachable { server, reason } => format!(
            "cannot reach PostgreSQL at {server} ({reason}); start PostgreSQL there, fix \
             database.url (TONEARM_DATABASE_URL), or unset it to use the built-in SQLite file"
        ),
        StoreError::Url(scheme) => format!(
            "database.url must be a postgres:// URL, not {scheme}://; fix it, or unset it to use \
             the built-in SQLite file"
        ),
        _ => return None,
    })
}

fn config_error(e: &figment::Error) -> String {
    // figment's message names the key and where it came from (file or environment variable).
    one_line(&format!(
        "invalid configuration: {e}; fix that setting (tonearm config show prints the settings \
         in effect)"
    ))
}

/// Multi-line causes (figment lists several errors) joined so the message stays one line.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_in_use_names_the_flag_that_fixes_it() {
        let addr = "127.0.0.1:8080".parse().unwrap();
        let e = anyhow::Error::from(ServeError::Bind(
            addr,
            std::io::Error::from(std::io::ErrorKind::AddrInUse),
        ));
        let msg = explain(&e);
        assert!(
            msg.contains("already in use") && msg.contains("--listen"),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn unknown_errors_print_their_chain_on_one_line() {
        let e = anyhow::anyhow!("inner\nsecond line").context("outer");
        assert_eq!(explain(&e), "outer: inner; second line");
    }
}
