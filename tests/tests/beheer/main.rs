//! Beheer over HTTP against `openpoort demo`: what a school's ICT-coördinator does for the school
//! in the browser, and who may reach it. One module per part of Beheer.

mod access;
mod common;
mod imports;
mod material;
mod network;
mod operator;
mod operator_clients;
mod parties;
mod privacy;
mod pupils;
mod staff;
