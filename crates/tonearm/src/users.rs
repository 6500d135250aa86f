//! `tonearm user add|list|passwd|remove`: account administration from the machine itself.

use anyhow::{bail, Context};
use std::io::{BufRead, IsTerminal};
use tonearm_server::auth::{password, sessions, tokens::random_token};
use tonearm_server::config::AuthConfig;
use tonearm_server::shared::Shared;
use tonearm_store::Store;

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user (password prompted on a terminal, else read as one line from stdin).
    Add {
        name: String,
        /// Make the user an admin.
        #[arg(long)]
        admin: bool,
    },
    /// List users.
    List,
    /// Set a user's password (ends their sessions).
    Passwd { name: String },
    /// Delete a user with their keys and sessions.
    Remove { name: String },
}

/// Reads a new password: prompted twice without echo on a terminal, one line otherwise.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let a = rpassword::prompt_password("password: ")?;
        let b = rpassword::prompt_password("again: ")?;
        if a != b {
            bail!("the passwords differ");
        }
        Ok(a)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

/// Reads a new password, checks the policy and hashes it.
fn new_password_hash() -> anyhow::Result<String> {
    let pw = read_password()?;
    password::check_policy(&pw).map_err(|e| anyhow::anyhow!(e))?;
    password::hash(&pw).map_err(|e| anyhow::anyhow!(e))
}

async fn named(store: &Store, name: &str) -> anyhow::Result<tonearm_store::UserCredentials> {
    store
        .credentials(name)
        .await?
        .with_context(|| format!("no user named {name:?}"))
}

pub async fn run(
    store: &Store,
    shared: Option<&Shared>,
    auth: &AuthConfig,
    cmd: UserCommand,
) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add { name, admin } => {
            tonearm_server::routes::auth::check_name(&name)
                .map_err(|e| anyhow::anyhow!(e.message))?;
            let hash = new_password_hash()?;
            let role = if admin { "admin" } else { "user" };
            if !store
                .create_user(&random_token(12), &name, &hash, role)
                .await?
            {
                bail!("a user named {name:?} exists");
            }
            println!("created {role} {name}");
        }
        UserCommand::List => {
            for u in store.users().await? {
                println!("{}\t{}\t{}", u.name, u.role, u.id);
            }
        }
        UserCommand::Passwd { name } => {
            let user = named(store, &name).await?;
            let hash = new_password_hash()?;
            let ended = store
                .set_password(&user.id, &hash)
                .await?
                .unwrap_or_default();
            sessions::announce(shared, auth, &ended, &[]).await;
            println!("password changed for {name}; their sessions are ended");
        }
        UserCommand::Remove { name } => {
            let user = named(store, &name).await?;
            store.delete_user(&user.id).await?;
            sessions::announce(shared, auth, &[], &[user.id]).await;
            println!("removed {name}");
        }
    }
    Ok(())
}
