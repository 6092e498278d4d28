//! What a sign-in is, whichever front end it came through: here, the end of a session.

pub mod logout;
