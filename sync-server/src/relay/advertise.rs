//! The relay says it is there on the venue network: a DNS-SD service (`_onsite-relay._tcp`)
//! over multicast DNS, its TXT record naming the conference and the relay, so a desk of that
//! conference finds it without anyone typing an address (`desk::discovery`). Staff still
//! choose to use what was found: anyone on the venue network can say they are a relay, and a
//! desk hands its token to the relays it syncs with.

use std::net::SocketAddr;

use mdns_sd::{ServiceDaemon, ServiceInfo};

use super::Identity;

/// The DNS-SD service type of a venue relay.
pub const SERVICE: &str = "_onsite-relay._tcp.local.";

/// An announcement on the network; withdrawn when dropped.
pub struct Advert {
    daemon: ServiceDaemon,
    fullname: String,
}

/// Announces the relay listening at `addr`: on every interface's addresses when it listens on
/// all of them, on the one it listens on otherwise.
pub fn advertise(id: &Identity, addr: SocketAddr) -> Result<Advert, mdns_sd::Error> {
    let daemon = ServiceDaemon::new()?;
    let short = &id.relay.as_uuid().simple().to_string()[..12];
    // An instance name is a DNS label: at most 63 bytes, no dots.
    let label: String = id
        .name
        .chars()
        .map(|c| if c == '.' { ' ' } else { c })
        .take(40)
        .collect();
    let instance = format!("{} {short}", label.trim());
    let host = format!("onsite-relay-{short}.local.");
    let properties = [
        ("conference", id.conference.to_string()),
        ("relay", id.relay.to_string()),
        (
            "protocol",
            onsite_shared::protocol::PROTOCOL_VERSION.to_string(),
        ),
    ];
    let info = if addr.ip().is_unspecified() {
        ServiceInfo::new(SERVICE, &instance, &host, "", addr.port(), &properties[..])?
            .enable_addr_auto()
    } else {
        ServiceInfo::new(
            SERVICE,
            &instance,
            &host,
            addr.ip(),
            addr.port(),
            &properties[..],
        )?
    };
    let fullname = info.get_fullname().to_owned();
    daemon.register(info)?;
    Ok(Advert { daemon, fullname })
}

impl Drop for Advert {
    fn drop(&mut self) {
        let _ = self.daemon.unregister(&self.fullname);
        let _ = self.daemon.shutdown();
    }
}
