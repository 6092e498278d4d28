//! What a sign-in is, whichever front end it came through (OpenID Connect, SAML, and later a
//! network provider's brokered login): the steps to a session at a school, the release decision
//! with its explanation, and the end of a session. Front ends parse their protocol, call these,
//! and render the answer in their protocol.

pub mod brokered;
pub mod login;
pub mod logout;
pub mod passkey;
pub mod release;
pub mod second_factor;
