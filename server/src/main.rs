use std::process::ExitCode;

use clap::Parser;
use concierge_server::cli::{Cli, Command};
use concierge_server::jwt::Keys;
use concierge_server::secret::Source;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Keys) => {
            let secret = match cli.serve.resolve_secret() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("concierge-server keys: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match &secret.source {
                Source::Development => eprintln!(
                    "concierge-server keys: no secret configured and no {} file: these are the \
                     keys of the public DEVELOPMENT secret (loopback only)",
                    concierge_server::secret::secret_file(&cli.serve.db).display()
                ),
                Source::Generated(path) => eprintln!(
                    "concierge-server keys: generated a random JWT secret into {}",
                    path.display()
                ),
                Source::Configured | Source::Stored(_) => {}
            }
            let keys = Keys::new(&secret.secret);
            let out = serde_json::json!({
                "anon_key": keys.anon_key(),
                "service_role_key": keys.service_role_key(),
            });
            println!("{out}");
            ExitCode::SUCCESS
        }
        Some(Command::AddStaff(a)) => add_staff(&cli.serve, &a),
        None | Some(Command::Serve) => serve(cli),
    }
}

/// `concierge-server add-staff`: creates or updates a staff account in the `--db` database.
fn add_staff(
    serve: &concierge_server::cli::ServeArgs,
    a: &concierge_server::cli::AddStaffArgs,
) -> ExitCode {
    use concierge_server::auth::AuthService;
    use concierge_wire::AppRole;
    let result = serve
        .resolve_secret()
        .map_err(|e| e.to_string())
        .and_then(|secret| {
            let keys = std::sync::Arc::new(Keys::new(&secret.secret));
            AuthService::open(&serve.db, keys, serve.access_token_ttl_secs)
                .and_then(|auth| {
                    auth.upsert_user_blocking(&a.email, &a.password, AppRole::Staff, Some(&a.name))
                })
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(u) => {
            println!(
                "{}",
                serde_json::json!({"id": u.id, "email": u.email(), "role": u.role().map(|r| r.as_str()), "name": u.name})
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("concierge-server add-staff: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(cli: Cli) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "concierge_server=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: log files and test harnesses get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let server = match concierge_server::start(&cli.serve).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("{e}");
                eprintln!("concierge-server: {e}");
                return ExitCode::FAILURE;
            }
        };
        let addr = server.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| cli.serve.addr.to_string());
        tracing::info!(url = %format!("http://{addr}"), data = %server.describe(&cli.serve), "concierge-server started");
        println!("listening on http://{addr}");
        match server.run(shutdown_signal()).await {
            Ok(()) => {
                tracing::info!("shut down cleanly");
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!("{e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown requested");
}
