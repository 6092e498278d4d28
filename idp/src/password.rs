//! Password hashing and the password rules.
//!
//! argon2id at OWASP's parameters costs about 15 ms of one core and 19 MiB, so hashes run on
//! tokio's blocking pool behind a semaphore of one permit per core: the async threads never
//! stall, and a burst of logins queues instead of exhausting memory. The queue itself is
//! bounded (`server.password_queue`): past it a hash is refused at once with
//! [`HashError::Busy`], because an endless queue made a legitimate login wait 8.7 s in a flood
//! and a refusal the client may retry is kinder than a wait nobody sees the end of.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Argon2(String),
    #[error("password hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("password hashing pool closed")]
    Closed,
    /// More hashes are waiting than `server.password_queue` allows; nothing was computed.
    #[error("too many passwords waiting to be checked")]
    Busy,
}

/// How long a refused client is asked to wait ([`HashError::Busy`]): a full queue of a few
/// dozen hashes drains in well under a second, so a retry after this is likely to be served.
pub const BUSY_RETRY_AFTER_SECONDS: u64 = 2;

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// Places for hashes that run or wait: the cores plus the queue. Taken without waiting, so
    /// that admission is one atomic step (a count read and then raised would let a burst in).
    admitted: Arc<Semaphore>,
    /// Verified against when there is no real hash (unknown address, account without password),
    /// so that such a login costs the same time as a wrong password.
    dummy: Arc<String>,
}

fn argon2() -> Argon2<'static> {
    // Argon2::default() is argon2id v19 with m=19456 KiB, t=2, p=1: OWASP's recommendation.
    Argon2::default()
}

fn hash_blocking(password: &str) -> Result<String, HashError> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError::Argon2(e.to_string()))
}

impl Hasher {
    /// `parallel` hashes at once, and at most `queue` more waiting for their turn.
    pub async fn new(parallel: usize, queue: usize) -> Result<Hasher, HashError> {
        let dummy =
            tokio::task::spawn_blocking(|| hash_blocking("openpoort-timing-equaliser")).await??;
        let parallel = parallel.max(1);
        Ok(Hasher {
            permits: Arc::new(Semaphore::new(parallel)),
            admitted: Arc::new(Semaphore::new(parallel.saturating_add(queue))),
            dummy: Arc::new(dummy),
        })
    }

    fn admit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, HashError> {
        self.admitted
            .clone()
            .try_acquire_owned()
            .map_err(|e| match e {
                tokio::sync::TryAcquireError::NoPermits => HashError::Busy,
                tokio::sync::TryAcquireError::Closed => HashError::Closed,
            })
    }

    /// `work` on the blocking pool, once admitted and given a core.
    async fn on_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _admitted = self.admit()?;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::Closed)?;
        Ok(tokio::task::spawn_blocking(work).await?)
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.on_pool(move || hash_blocking(&password)).await?
    }

    /// Whether `password` matches `stored`. Without a stored hash the dummy is checked (and the
    /// answer is false), so the time taken does not tell whether an account exists.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        let real = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy.as_ref().clone());
        let matched = self
            .on_pool(move || {
                PasswordHash::new(&hash)
                    .map(|parsed| {
                        argon2()
                            .verify_password(password.as_bytes(), &parsed)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await?;
        Ok(real && matched)
    }
}

/// Why a new password is refused, for the form: Dutch and English.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub nl: String,
    pub en: String,
}

/// The rules for a new password: at least 8 characters with letters and digits, at most 128
/// (argon2 hashes anything, but a megabyte "password" is an attack), and not guessable by
/// zxcvbn's estimate (common passwords, keyboard patterns, dates, the user's own name or
/// address), which is a maintained alternative to a hand-made list.
pub fn check_new_password(password: &str, personal: &[&str]) -> Result<(), Refusal> {
    let refuse = |nl: &str, en: &str| {
        Err(Refusal {
            nl: nl.to_owned(),
            en: en.to_owned(),
        })
    };
    let chars = password.chars().count();
    if chars < 8 {
        return refuse(
            "Je wachtwoord moet minstens 8 tekens lang zijn.",
            "Your password must be at least 8 characters long.",
        );
    }
    if chars > 128 {
        return refuse(
            "Je wachtwoord mag hoogstens 128 tekens lang zijn.",
            "Your password may be at most 128 characters long.",
        );
    }
    if !password.chars().any(char::is_alphabetic) || !password.chars().any(|c| c.is_ascii_digit()) {
        return refuse(
            "Je wachtwoord moet zowel letters als cijfers bevatten.",
            "Your password must contain both letters and digits.",
        );
    }
    let lower = password.to_lowercase();
    let own = personal
        .iter()
        .flat_map(|p| p.split(['@', '.', ' ', '-', '_']))
        .map(str::to_lowercase)
        .any(|part| part.chars().count() >= 4 && lower.contains(&part));
    if own {
        return refuse(
            "Je wachtwoord mag je naam of e-mailadres niet bevatten.",
            "Your password must not contain your name or e-mail address.",
        );
    }
    let estimate = zxcvbn::zxcvbn(password, personal);
    if (estimate.score() as u8) < 3 {
        return refuse(
            "Dit wachtwoord is te makkelijk te raden (het komt veel voor, volgt een patroon of bevat je naam). Kies een langer wachtwoord, bijvoorbeeld een paar losse woorden met cijfers.",
            "This password is too easy to guess (it is common, follows a pattern or contains your name). Choose a longer one, for example a few unrelated words with digits.",
        );
    }
    Ok(())
}

/// [`check_new_password`] with the staff member's own name and address as the words a
/// password must not be built from.
pub fn check_staff_password(
    password: &str,
    staff: &directory::people::Staff,
) -> Result<(), Refusal> {
    let personal: Vec<&str> = [
        staff.email.as_deref(),
        staff.roepnaam.as_deref(),
        staff.voornamen.as_deref(),
        Some(staff.achternaam.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    check_new_password(password, &personal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new_password("ab12cd3", &[]).is_err());
    }

    #[test]
    fn passwords_need_letters_and_digits() {
        let r = check_new_password("correcthorsebatterystaple", &[]).unwrap_err();
        assert!(r.nl.contains("letters als cijfers"), "{r:?}");
        assert!(check_new_password("8473920184736", &[]).is_err());
    }

    #[test]
    fn common_passwords_are_refused_even_with_digits() {
        for common in [
            "password1",
            "welkom123",
            "qwerty123",
            "abc12345",
            "Wachtwoord1",
        ] {
            assert!(
                check_new_password(common, &[]).is_err(),
                "{common} accepted"
            );
        }
    }

    #[test]
    fn the_users_own_name_does_not_make_a_password() {
        assert!(
            check_new_password("annajansen1", &["anna", "jansen", "anna.jansen@school.nl"])
                .is_err()
        );
    }

    #[test]
    fn a_long_unpredictable_password_is_accepted() {
        assert_eq!(
            check_new_password("Tulpen-Molen-73-Fiets", &["anna"]),
            Ok(())
        );
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let h = Hasher::new(1, 8).await.unwrap();
        let hash = h.hash("Tulpen-Molen-73".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            h.verify("Tulpen-Molen-73".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !h.verify("tulpen-molen-73".into(), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_flood_beyond_the_password_queue_is_refused_at_once() {
        let h = Hasher::new(1, 2).await.unwrap();
        let hash = h.hash("Tulpen-Molen-73".into()).await.unwrap();
        let one_hash = {
            let start = std::time::Instant::now();
            h.verify("x".into(), Some(hash.clone())).await.unwrap();
            start.elapsed()
        };
        // Twenty at once: one runs, two wait, the other seventeen are refused before any of
        // the admitted ones has finished. Spawned tasks, so they really race for a place.
        let started = std::time::Instant::now();
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let h = h.clone();
                let stored = Some(hash.clone());
                tokio::spawn(async move {
                    let r = if i % 2 == 0 {
                        h.verify("Tulpen-Molen-73".into(), stored).await.map(|_| ())
                    } else {
                        h.hash("Tulpen-Molen-73".into()).await.map(|_| ())
                    };
                    (r, started.elapsed())
                })
            })
            .collect();
        let mut served = 0;
        let mut refused = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                (Ok(()), _) => served += 1,
                (Err(HashError::Busy), after) => refused.push(after),
                (Err(e), _) => panic!("unexpected {e}"),
            }
        }
        assert_eq!((served, refused.len()), (3, 17));
        // Refused without waiting for a hash: a refusal that queues is no refusal.
        assert!(
            refused.iter().all(|after| *after < one_hash),
            "{refused:?} vs one hash {one_hash:?}"
        );
        // The queue is free again afterwards.
        assert!(
            h.verify("Tulpen-Molen-73".into(), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn verifying_without_a_stored_hash_is_false_and_costs_a_real_hash() {
        let h = Hasher::new(1, 8).await.unwrap();
        let hash = h.hash("Tulpen-Molen-73".into()).await.unwrap();
        // The fastest of a few runs each, so that a busy machine does not decide the outcome.
        let time = |stored: Option<String>| {
            let h = h.clone();
            async move {
                let mut best = std::time::Duration::MAX;
                let mut ok = false;
                for _ in 0..3 {
                    let start = std::time::Instant::now();
                    ok = h
                        .verify("Tulpen-Molen-73".into(), stored.clone())
                        .await
                        .unwrap();
                    best = best.min(start.elapsed());
                }
                (ok, best)
            }
        };
        let (ok_none, t_none) = time(None).await;
        let (ok_real, t_real) = time(Some(hash)).await;
        assert!(!ok_none && ok_real);
        // Same parameters, same work: within a factor of three of each other on any machine.
        assert!(
            t_none * 3 > t_real && t_real * 3 > t_none,
            "{t_none:?} vs {t_real:?}"
        );
    }
}
