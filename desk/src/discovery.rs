//! Finding a venue relay on the network: the relays announce themselves by DNS-SD
//! (`_onsite-relay._tcp`, the conference in the TXT record); a desk lists those of its own
//! conference. It does not start using one on its own: staff choose, because anyone on the
//! venue network can announce a relay, and a desk gives its token to the relays it syncs with.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use mdns_sd::{ServiceDaemon, ServiceEvent};
use onsite_shared::ids::ConferenceId;
use serde::Serialize;

use crate::error::DeskError;

/// The DNS-SD service type a venue relay announces.
pub const SERVICE: &str = "_onsite-relay._tcp.local.";

/// A relay found on the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct FoundRelay {
    /// Its name, as head office enrolled it (and a few characters of its id).
    pub name: String,
    /// Its address, to sync with (`http://IP:port`).
    pub url: String,
    pub relay: String,
}

/// The relays of `conference` that answer on the network within `wait` (blocking; a few
/// seconds is enough on a LAN). Nothing found is an empty list, not an error.
pub fn find_relays(conference: ConferenceId, wait: Duration) -> Result<Vec<FoundRelay>, DeskError> {
    let fail = |e: mdns_sd::Error| DeskError::BadInput(format!("looking for relays: {e}"));
    let daemon = ServiceDaemon::new().map_err(fail)?;
    let events = daemon.browse(SERVICE).map_err(fail)?;
    let deadline = Instant::now() + wait;
    let mut found: HashMap<String, FoundRelay> = HashMap::new();
    while let Ok(event) = events.recv_deadline(deadline) {
        let ServiceEvent::ServiceResolved(info) = event else {
            continue;
        };
        if info.get_property_val_str("conference") != Some(conference.to_string().as_str()) {
            continue;
        }
        let Some(relay) = info.get_property_val_str("relay").map(str::to_owned) else {
            continue;
        };
        // IPv4 first: a venue network's addresses, and no zone ids to put in a URL.
        let mut addresses: Vec<&IpAddr> = info.get_addresses().iter().collect();
        addresses.sort_by_key(|a| (!a.is_ipv4(), a.is_loopback(), a.to_string()));
        let Some(ip) = addresses.first() else {
            continue;
        };
        let host = match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        let name = info
            .get_fullname()
            .strip_suffix(&format!(".{SERVICE}"))
            .unwrap_or(info.get_fullname())
            .to_owned();
        found.insert(
            relay.clone(),
            FoundRelay {
                name,
                url: format!("http://{host}:{}", info.get_port()),
                relay,
            },
        );
    }
    let _ = daemon.stop_browse(SERVICE);
    let _ = daemon.shutdown();
    let mut list: Vec<FoundRelay> = found.into_values().collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}
