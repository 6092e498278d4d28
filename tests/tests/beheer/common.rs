//! What every Beheer test needs: `openpoort demo` on a store, and reading its state back.

use std::time::Duration;

use openpoort_e2e::{Page, Server, Store, cli_ok, openpoort, store_env};

pub struct Demo {
    pub dir: tempfile::TempDir,
    pub server: Server,
}

pub fn demo(store: Store) -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = openpoort(dir.path());
    for (k, v) in store_env(store) {
        cmd.env(k, v);
    }
    cmd.arg("demo");
    let server = Server::start(cmd);
    server.more_output(Duration::from_millis(300));
    Demo { dir, server }
}

pub fn ranges(d: &Demo) -> String {
    cli_ok(d.dir.path(), &["ip-range", "list", "--school", "99ZZ00"])
}

pub fn form(page: &Page, marker: &str) -> usize {
    page.form_with(marker)
        .unwrap_or_else(|| panic!("no form with {marker}: {}", page.body))
}
