use std::process::ExitCode;

use clap::Parser;
use concierge_server::cli::{Cli, Command};
use concierge_server::jwt::{DEV_JWT_SECRET, Keys};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Keys) => {
            let keys = Keys::new(&cli.serve.jwt_secret);
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
    let keys = std::sync::Arc::new(Keys::new(&serve.jwt_secret));
    let result = AuthService::open(&serve.db, keys, serve.access_token_ttl_secs).and_then(|auth| {
        auth.upsert_user_blocking(&a.email, &a.password, AppRole::Staff, Some(&a.name))
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
        if cli.serve.jwt_secret == DEV_JWT_SECRET && cli.serve.upstream_supabase.is_none() {
            tracing::warn!("using the DEVELOPMENT JWT secret; set --jwt-secret / CONCIERGE_JWT_SECRET for anything real");
        }
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
