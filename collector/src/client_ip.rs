//! The visitor's address, for rate limits only (it is never stored or logged): the TCP
//! peer, unless the peer is a reverse proxy the operator trusts, in which case the nearest
//! address in `X-Forwarded-For` that is not one of those proxies. Never trusted by default,
//! so a visitor cannot pick their own address to slip past the limits.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of addresses (`10.0.0.5`) or networks (`10.0.0.0/8`).
    fn from_str(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{item:?} is not an IP address or network (10.0.0.0/8)"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for this request.
    pub fn client_ip(&self, request: &HttpRequest) -> Option<IpAddr> {
        let peer = request.peer_addr()?.ip();
        if !self.trusts(peer) {
            return Some(peer);
        }
        // Right to left: each trusted proxy appended the address it got the request from.
        let forwarded: Vec<IpAddr> = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|item| item.trim().parse::<IpAddr>().ok())
            .collect();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|ip| !self.trusts(*ip))
                .unwrap_or(peer),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request(peer: &str, forwarded: &[&str]) -> HttpRequest {
        let ip: IpAddr = peer.parse().unwrap();
        let mut request = TestRequest::default().peer_addr((ip, 40_000).into());
        for value in forwarded {
            request = request.append_header(("X-Forwarded-For", *value));
        }
        request.to_http_request()
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let proxies: TrustedProxies = "10.0.0.0/8, 192.168.1.7".parse().unwrap();
        let ip = |text: &str| Some(text.parse::<IpAddr>().unwrap());

        // Nobody is trusted by default: a visitor cannot choose their address.
        assert_eq!(
            none.client_ip(&request("203.0.113.9", &["198.51.100.1"])),
            ip("203.0.113.9")
        );
        // From a trusted proxy, the nearest untrusted hop is the visitor...
        assert_eq!(
            proxies.client_ip(&request("10.1.2.3", &["198.51.100.1"])),
            ip("198.51.100.1")
        );
        // ...even through a chain of trusted proxies, and whatever the visitor prepended.
        assert_eq!(
            proxies.client_ip(&request(
                "10.1.2.3",
                &["1.2.3.4, 198.51.100.1, 192.168.1.7"]
            )),
            ip("198.51.100.1")
        );
        assert_eq!(
            proxies.client_ip(&request("10.1.2.3", &["1.2.3.4", "198.51.100.1"])),
            ip("198.51.100.1"),
            "several headers are one list"
        );
        // A request straight from a visitor that claims to be forwarded is not believed.
        assert_eq!(
            proxies.client_ip(&request("203.0.113.9", &["10.0.0.1"])),
            ip("203.0.113.9")
        );
        // A trusted proxy that sent no (or no usable) header: the proxy itself.
        assert_eq!(
            proxies.client_ip(&request("10.1.2.3", &["garbage"])),
            ip("10.1.2.3")
        );
        assert_eq!(proxies.client_ip(&request("::1", &[])), ip("::1"));
    }

    #[test]
    fn proxy_lists_parse_or_say_what_is_wrong() {
        assert_eq!(
            "".parse::<TrustedProxies>().unwrap(),
            TrustedProxies::default()
        );
        assert!("10.0.0.0/8,::1,fd00::/8".parse::<TrustedProxies>().is_ok());
        let err = "10.0.0.0/8, proxy.local"
            .parse::<TrustedProxies>()
            .unwrap_err();
        assert!(err.contains("proxy.local"), "{err}");
    }
}
