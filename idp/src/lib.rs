//! The openpoort server and its command line as a library: the binary `openpoort` is a thin
//! `main` over [`run`], and tests can build the real router in process (`server::router` over
//! `app::build_state`) instead of starting the binary.

mod accept;
mod api;
pub mod app;
pub mod app_state;
pub mod cli;
pub mod clients;
mod clock;
pub mod config;
pub mod demo;
mod demo_product;
mod flow;
mod grants;
mod homecode;
mod http;
mod import;
mod las;
mod links;
mod mail;
mod metrics;
mod oidc;
mod operator;
mod operator_admin;
mod partner;
mod party_certificates;
mod password;
mod pictures;
mod saml;
mod school_admin;
pub mod server;
pub mod service_providers;
mod session;
mod state;
mod tls;
pub mod totp;
pub mod upstream;
mod web;
mod webauthn;
mod xml_signing;

use std::time::Duration;

use crate::app::AppError;
use crate::cli::{Cli, Command, ConfigCommand};
use crate::config::{CONFIG_PATH_ENV, Config};

fn environment() -> Result<Vec<(String, String)>, AppError> {
    std::env::vars_os()
        .filter_map(|(k, v)| {
            let k = k.into_string().ok()?;
            // Only our own variables must be readable; others are none of our business.
            // The upstream client secret is a command's input, never a setting: the
            // configuration neither reads nor refuses it, and so never shows it.
            if !k.starts_with("OPENPOORT_") || k == crate::cli::UPSTREAM_CLIENT_SECRET_ENV {
                return None;
            }
            Some(v.into_string().map(|v| (k.clone(), v)).map_err(|_| {
                AppError::Usage(format!("environment variable {k} is not valid UTF-8"))
            }))
        })
        .collect()
}

fn load_config(cli: &Cli, development: bool) -> Result<Config, AppError> {
    let mut env = environment()?;
    let file = cli.config.clone().or_else(|| {
        env.iter()
            .find(|(k, _)| k == CONFIG_PATH_ENV)
            .map(|(_, v)| v.into())
    });
    if development {
        env.push(("OPENPOORT_SERVER_MODE".into(), "development".into()));
    } else if file.is_none() && !env.iter().any(|(k, _)| k == "OPENPOORT_SERVER_MODE") {
        // Nothing says which mode: a command run next to `openpoort demo` finds the demo's
        // data directory marked and works on the demo's register, as the demo does. Read with
        // the demo's settings so that the data directory is found where the demo put it.
        let mut as_demo = env.clone();
        as_demo.push(("OPENPOORT_SERVER_MODE".into(), "development".into()));
        if let Ok(config) = Config::load(None, as_demo)
            && demo::is_marked(&config.storage.data_dir)
        {
            return Ok(config);
        }
    }
    Ok(Config::load(file.as_deref(), env)?)
}

/// Carries out one command line: serve, the demo, or an operator command.
pub async fn run(cli: Cli) -> Result<(), AppError> {
    if let Command::Config(ConfigCommand::Keys) = cli.command {
        for (key, env) in config::known_keys() {
            println!("{key:<36} {env}");
        }
        return Ok(());
    }
    let demo = matches!(cli.command, Command::Demo);
    let config = load_config(&cli, demo)?;
    if let Command::Config(ConfigCommand::Check) = cli.command {
        println!(
            "configuration OK ({} mode)",
            if config.is_development() {
                "development"
            } else {
                "production"
            }
        );
        return Ok(());
    }
    app::init_logging(&config)?;
    match cli.command {
        Command::Serve => {
            let state = app::build_state(&config).await?;
            serve(&config, state, None).await
        }
        Command::Demo => {
            let state = app::build_state(&config).await?;
            demo::mark_data_dir(&config.storage.data_dir)?;
            let seeded = demo::seed(&state).await?;
            serve(&config, state, Some(seeded)).await
        }
        Command::Config(_) => unreachable!("answered before logging starts"),
        Command::Migrate => {
            let directory = app::open_directory(&config).await?;
            println!("database schema is up to date");
            directory.close().await;
            Ok(())
        }
        command => operator::run(&config, command).await,
    }
}

async fn serve(
    config: &Config,
    state: app_state::AppState,
    seeded: Option<demo::Seeded>,
) -> Result<(), AppError> {
    let directory = state.directory.clone();
    // On PostgreSQL the read cache stays off until this node hears the register's changes.
    directory.listen_for_changes();
    app::spawn_audit_retention(directory.clone(), config.audit.retention_days);
    app::spawn_outage_refresh(&state);
    app::spawn_key_rotation(state.keys.clone(), config.keys.rotate_days);
    service_providers::spawn_refresh(
        directory.clone(),
        state.http.clone(),
        Duration::from_secs(u64::from(config.saml.metadata_refresh_hours) * 3_600),
        config.is_development(),
    );
    upstream::registry::spawn_refresh(
        directory.clone(),
        state.http.clone(),
        Duration::from_secs(u64::from(config.saml.metadata_refresh_hours) * 3_600),
    );
    las::spawn_las_schedule(
        las::Puller::new(
            config,
            directory.clone(),
            state.mailer.clone(),
            state.keys.kek().clone(),
        )
        .map_err(|e| AppError::Usage(e.to_string()))?,
        config.las.pull_minutes(),
    );
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .map_err(AppError::io(format!(
            "cannot listen on {}",
            config.server.listen
        )))?;
    let local = listener
        .local_addr()
        .map_err(AppError::io("cannot read the listening address"))?;
    tracing::info!(address = %local, public_url = %config.server.public_url, "listening");
    // The demo product is registered at the address it is served at, so after binding.
    let product = match &seeded {
        Some(_) => match demo_product::servable_at(&config.server.public_url) {
            Ok(()) => Some(demo_product::start(&state, &config.server.public_url, local).await?),
            Err(e) => {
                tracing::warn!(error = %e, "demo product Leesland not served at this public_url");
                None
            }
        },
        None => None,
    };
    if let Some(seeded) = seeded {
        // Absolute, so that it can be opened from wherever the reader's shell is.
        let outbox = mail::outbox_dir(&config.mail, &config.storage.data_dir)
            .map(|dir| std::path::absolute(&dir).unwrap_or(dir));
        demo::print_welcome(
            &seeded,
            &config.server.public_url,
            local,
            outbox.as_deref(),
            product.is_some(),
        );
    }
    let partner = match config.partner.address() {
        Some(address) => {
            let tls = tls::partner_server_config(
                &config.partner.certificate,
                &config.partner.private_key,
            )?;
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(AppError::io(format!(
                    "cannot listen on {address} (partner.listen)"
                )))?;
            let local = listener
                .local_addr()
                .map_err(AppError::io("cannot read the partner listening address"))?;
            tracing::info!(address = %local, "partner API listening (mutual TLS)");
            println!("openpoort partner API listening on https://{local}");
            Some((listener, tls))
        }
        None => None,
    };
    // One machine-readable line on stdout, so that scripts and tests find the port when
    // `server.listen` asks for port 0. It comes last: whoever waits for it may use everything
    // printed before (the demo's welcome) and every route (the demo product's).
    println!("openpoort listening on http://{local}");
    let grace = Duration::from_secs(config.server.shutdown_grace_seconds);
    let limits = accept::Limits {
        header_read: Duration::from_secs(config.server.header_read_timeout_seconds),
        idle: Duration::from_secs(config.server.idle_timeout_seconds),
        body: Duration::from_secs(config.server.body_timeout_seconds),
    };
    let partner_served = partner.map(|(listener, tls)| {
        let router = partner::router(state.clone());
        tokio::spawn(server::serve_tls(listener, router, tls, limits, grace))
    });
    let mut router = server::router(state);
    if let Some(product) = product {
        router = router.merge(demo_product::router(product));
    }
    server::serve(listener, router, limits, grace)
        .await
        .map_err(AppError::io("HTTP server failed"))?;
    if let Some(served) = partner_served {
        match served.await {
            Ok(result) => result.map_err(AppError::io("partner API server failed"))?,
            Err(e) => tracing::error!(error = %e, "partner API server task ended abnormally"),
        }
    }
    directory.close().await;
    tracing::info!("stopped");
    Ok(())
}
