//! `migrate`: the command-line side of the toolkit. Alembic's verbs over the
//! same migrations directory that `embed_migrations!` compiles in.
//!
//! This file only parses arguments, dispatches, and turns errors into exit
//! codes; the verbs are in [`commands`], and all the rules they apply live
//! in migrate-core and migrate-runtime.

mod args;
mod commands;
mod config;
mod database;
mod error;
mod interrupt;
mod naming;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command, SchemaCommand};
use crate::commands::{inspect, lint, replay, revision, schema, upgrade, Context};
use crate::config::Config;
use crate::error::{CliError, CliResult, Exit};
use crate::interrupt::Interrupts;
use crate::output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output::new(cli.color, cli.quiet);
    let result = run(cli, out).and_then(|()| match output::stdout_failure() {
        // A closed pipe (`| head`) is not an error; a full disk is: the
        // output (a script, say) is incomplete.
        Some(reason) => Err(CliError::new(
            Exit::Usage,
            format!("cannot write the output: {reason}; it is incomplete"),
        )),
        None => Ok(()),
    });
    match result {
        Ok(()) => ExitCode::from(Exit::Ok as u8),
        Err(err) => {
            out.error(&err);
            ExitCode::from(err.exit as u8)
        }
    }
}

fn run(cli: Cli, out: Output) -> CliResult {
    if let Command::Init(args) = &cli.command {
        return revision::init(
            args,
            cli.config.as_deref(),
            cli.database_url.as_deref(),
            &out,
        );
    }
    let config = Config::load(cli.config.as_deref(), cli.database_url.as_deref())?;
    // One thread is plenty: the CLI runs one operation at a time, and the
    // progress subscriber is installed for the current thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            CliError::new(
                Exit::Database,
                format!("cannot start the async runtime: {err}"),
            )
        })?;
    let result = runtime.block_on(async {
        let interrupts = Interrupts::listen(out);
        let ctx = Context {
            config,
            out,
            interrupts: interrupts.clone(),
        };
        let hint = match &cli.command {
            Command::Current(_)
            | Command::History(_)
            | Command::Heads(_)
            | Command::Branches(_)
            | Command::Show(_)
            | Command::Status(_)
            | Command::Check(_)
            | Command::Schema(_) => Some("this command only reads: nothing was changed"),
            _ => Some("`migrate status` shows what is applied"),
        };
        let command = async {
            match &cli.command {
                Command::Init(_) => unreachable!("handled above"),
                Command::Revision(args) => revision::revision(&ctx, args).await,
                Command::Merge(args) => revision::merge(&ctx, args),
                Command::Upgrade(args) => upgrade::upgrade(&ctx, args).await,
                Command::Downgrade(args) => upgrade::downgrade(&ctx, args).await,
                Command::Stamp(args) => upgrade::stamp(&ctx, args).await,
                Command::Current(args) => inspect::current(&ctx, args).await,
                Command::History(args) => inspect::history(&ctx, args).await,
                Command::Heads(args) => inspect::heads(&ctx, args),
                Command::Branches(args) => inspect::branches(&ctx, args),
                Command::Show(args) => inspect::show(&ctx, args),
                Command::Status(args) => inspect::status(&ctx, args).await,
                Command::Check(args) if args.replay => replay::check(&ctx, args).await,
                Command::Check(args) if args.schema => schema::check(&ctx, args).await,
                Command::Check(args) if args.lint => lint::check(&ctx, args),
                Command::Check(args) => inspect::check(&ctx, args.json).await,
                Command::Schema(args) => match &args.command {
                    SchemaCommand::Dump(dump) => schema::dump(&ctx, dump).await,
                },
                Command::Repair => inspect::repair(&ctx).await,
            }
        };
        interrupts.guard(out, hint, command).await
    });
    if interrupt::was_interrupted(&result) {
        // An interrupted SQLite statement still runs in sqlx's worker
        // thread: nothing of it is committed, and the exit must not wait
        // for it.
        runtime.shutdown_background();
    }
    result
}
