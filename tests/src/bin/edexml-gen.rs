//! Writes a valid EDEXML 2.1 file of a made-up school (see `openpoort_e2e::edexml_gen`):
//!
//!     cargo run -p openpoort-e2e --bin edexml-gen -- PUPILS [--seed N] [--brin 99ZZ] [--vestiging 00] > school.xml

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use openpoort_e2e::edexml_gen::{Args, generate};

const USAGE: &str = "usage: edexml-gen PUPILS [--seed N] [--brin 99ZZ] [--vestiging 00] > file.xml";

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut pupils = None;
    let mut seed = 1;
    let mut brin = "99ZZ".to_owned();
    let mut vestiging = "00".to_owned();
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--seed" => {
                seed = value("--seed")?
                    .parse()
                    .map_err(|_| "--seed takes a whole number".to_owned())?;
            }
            "--brin" => brin = value("--brin")?,
            "--vestiging" => vestiging = value("--vestiging")?,
            "-h" | "--help" => return Err(String::new()),
            _ if pupils.is_none() && !a.starts_with('-') => {
                pupils = Some(
                    a.parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("PUPILS must be a positive number, not {a:?}"))?,
                );
            }
            _ => return Err(format!("unexpected argument {a:?}")),
        }
    }
    let b = brin.as_bytes();
    if !(b.len() == 4
        && b[..2].iter().all(u8::is_ascii_digit)
        && b[2..].iter().all(u8::is_ascii_uppercase))
    {
        return Err(format!(
            "--brin must be 2 digits and 2 capital letters, not {brin:?}"
        ));
    }
    if !(vestiging.len() == 2 && vestiging.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("--vestiging must be 2 digits, not {vestiging:?}"));
    }
    Ok(Args {
        pupils: pupils.ok_or("PUPILS is missing")?,
        seed,
        brin,
        vestiging,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("edexml-gen: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match generate(&mut out, &args).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stops early (`| head`) is not an error of ours.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edexml-gen: cannot write the file: {e}");
            ExitCode::FAILURE
        }
    }
}
