//! Sending sign-in links by SMTP when `smtp_url` is configured (lettre).
//!
//! Without SMTP no link is made at all: a sign-in link is a secret and never goes to the log
//! (anyone may ask for one for any address). The sign-in page says e-mail is not configured and
//! that an admin prints a link with `fleetdeck user magic-link`, on the operator's terminal.
//!
//! Delivery runs in a background task, so the answer to "send me a link" takes the same time
//! whether or not the address belongs to an account.

use std::sync::Arc;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::Config;

/// Delivers magic sign-in links.
#[derive(Clone)]
pub struct LinkMailer {
    transport: Option<Arc<AsyncSmtpTransport<Tokio1Executor>>>,
    from: Option<Mailbox>,
    public_url: String,
}

impl LinkMailer {
    /// Builds the mailer from the configuration; a bad SMTP URL or sender is an error at start.
    pub fn from_config(config: &Config) -> anyhow::Result<LinkMailer> {
        let transport = match &config.smtp_url {
            Some(url) => Some(Arc::new(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| anyhow::anyhow!("FLEETDECK_SMTP_URL is invalid: {e}"))?
                    .build(),
            )),
            None => None,
        };
        let from = match transport {
            Some(_) => Some(
                config
                    .smtp_from
                    .parse::<Mailbox>()
                    .map_err(|e| anyhow::anyhow!("FLEETDECK_SMTP_FROM is invalid: {e}"))?,
            ),
            None => None,
        };
        Ok(LinkMailer {
            transport,
            from,
            public_url: config.public_url(),
        })
    }

    /// Whether links can be e-mailed (an SMTP server is configured).
    pub fn enabled(&self) -> bool {
        self.transport.is_some() && self.from.is_some()
    }

    /// E-mails the link for `token` to `email`, in the background. Does nothing without SMTP
    /// (callers check [`LinkMailer::enabled`] before making a token).
    pub fn deliver(&self, email: &str, token: &str) {
        let (Some(transport), Some(from)) = (self.transport.clone(), self.from.clone()) else {
            tracing::warn!("a sign-in link was not sent: no SMTP server is configured");
            return;
        };
        let link = format!(
            "{}/api/auth/magic-link/redeem?token={token}",
            self.public_url
        );
        let to = match email.parse::<Mailbox>() {
            Ok(to) => to,
            Err(e) => {
                tracing::warn!(error = %e, "cannot e-mail a sign-in link to this address");
                return;
            }
        };
        tokio::spawn(async move {
            let message = Message::builder()
                .from(from)
                .to(to)
                .subject("Your Fleetdeck sign-in link")
                .body(format!(
                    "Sign in to Fleetdeck with this link (valid for 15 minutes, once):\n\n{link}\n\n\
                     If you did not ask for it, ignore this e-mail."
                ));
            match message {
                Ok(message) => match transport.send(message).await {
                    Ok(_) => tracing::info!("sign-in link e-mailed"),
                    Err(e) => tracing::error!(error = %e, "could not e-mail a sign-in link"),
                },
                Err(e) => tracing::error!(error = %e, "could not build the sign-in e-mail"),
            }
        });
    }
}

/// Alert e-mails go through the same SMTP server as sign-in links.
impl engine::alerts::notify::Mailer for LinkMailer {
    fn configured(&self) -> bool {
        self.enabled()
    }

    fn send(
        &self,
        to: Vec<String>,
        subject: String,
        body: String,
    ) -> engine::providers::BoxFuture<'static, Result<(), String>> {
        let (transport, from) = (self.transport.clone(), self.from.clone());
        Box::pin(async move {
            let (Some(transport), Some(from)) = (transport, from) else {
                return Err("no SMTP server is configured (set FLEETDECK_SMTP_URL)".to_owned());
            };
            let mut builder = Message::builder().from(from).subject(subject);
            for address in &to {
                let mailbox = address
                    .parse::<Mailbox>()
                    .map_err(|e| format!("{address} is not an e-mail address: {e}"))?;
                builder = builder.to(mailbox);
            }
            let message = builder
                .body(body)
                .map_err(|e| format!("the e-mail could not be built: {e}"))?;
            // lettre's errors name the server and the SMTP reply, never the URL's credentials.
            transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| format!("the SMTP server refused or failed: {e}"))
        })
    }
}
