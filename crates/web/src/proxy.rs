//! Reverse proxies: the client's address and scheme, taken from `X-Forwarded-*` / `Forwarded`
//! only when the TCP peer is a configured trusted proxy, so nobody else can spoof them.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::state::AppState;

/// Parses a trusted-proxy entry: a CIDR (`10.0.0.0/8`, `fd00::/8`) or a single address.
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    s.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("'{s}' is neither an IP address nor a CIDR such as 10.0.0.0/8"))
}

/// Whether `ip` lies in one of `nets`; IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`) count as IPv4.
pub fn contains(nets: &[IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    nets.iter().any(|n| n.contains(&ip))
}

/// Where a request comes from, as far as it can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The TCP peer: the client itself, or the proxy in front.
    pub peer: Option<IpAddr>,
    /// The client: the peer, or what a trusted proxy says the client is.
    pub client: Option<IpAddr>,
    /// A trusted proxy says the client spoke HTTPS to it.
    pub forwarded_https: bool,
    /// The request carries forwarding headers that were ignored (the peer is not trusted).
    pub untrusted_forwarding: bool,
}

impl Origin {
    /// Works out the origin of a request arriving from `peer` with `headers`.
    pub fn of(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Origin {
        let has_forwarding = headers.contains_key("x-forwarded-for")
            || headers.contains_key("x-forwarded-proto")
            || headers.contains_key(header::FORWARDED);
        let from_proxy = peer.is_some_and(|p| contains(trusted, p));
        if !from_proxy {
            return Origin {
                peer,
                client: peer,
                forwarded_https: false,
                untrusted_forwarding: has_forwarding,
            };
        }
        let (hops, proto) = forwarded_chain(headers);
        // The right-most address that is not itself a trusted proxy is the client: entries to its
        // left were written by the client or by proxies we know nothing about, so they could be forged.
        let client = hops
            .iter()
            .rev()
            .copied()
            .find(|ip| !contains(trusted, *ip))
            .or_else(|| hops.first().copied())
            .or(peer);
        Origin {
            peer,
            client,
            forwarded_https: proto.is_some_and(|p| p.eq_ignore_ascii_case("https")),
            untrusted_forwarding: false,
        }
    }

    /// The client's address as the rate limiter and the audit log name it.
    pub fn client_text(&self) -> String {
        self.client
            .map(|ip| ip.to_canonical().to_string())
            .unwrap_or_else(|| "unknown".into())
    }
}

/// The hops of `X-Forwarded-For` (or, without one, the `for=` of `Forwarded`), left to right,
/// and the scheme the client used (`X-Forwarded-Proto`, or `proto=` of `Forwarded`).
fn forwarded_chain(headers: &HeaderMap) -> (Vec<IpAddr>, Option<String>) {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let xff = values("x-forwarded-for");
    let xfp = values("x-forwarded-proto");
    if !xff.is_empty() || !xfp.is_empty() {
        let hops = xff.iter().filter_map(|s| parse_node(s)).collect();
        return (hops, xfp.first().cloned());
    }
    let mut hops = Vec::new();
    let mut proto = None;
    for element in values(header::FORWARDED.as_str()) {
        for pair in element.split(';') {
            let Some((k, v)) = pair.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                "for" => {
                    if let Some(ip) = parse_node(v) {
                        hops.push(ip);
                    }
                }
                "proto" if proto.is_none() => proto = Some(v.to_string()),
                _ => {}
            }
        }
    }
    (hops, proto)
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`, `2001:db8::1`.
fn parse_node(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    s.strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .and_then(|r| r.parse().ok())
}

/// The TCP peer of a request, when the server recorded it.
fn peer_of(parts_ext: &axum::http::Extensions) -> Option<IpAddr> {
    parts_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

impl FromRequestParts<AppState> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Origin::of(
            peer_of(&parts.extensions),
            &parts.headers,
            &state.config.trusted_proxies,
        ))
    }
}

/// Marks every cookie `Secure` when a trusted proxy says the client came over HTTPS (the
/// `secure_cookies` setting does so for every request).
pub async fn secure_cookies(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let origin = Origin::of(
        peer_of(req.extensions()),
        req.headers(),
        &state.config.trusted_proxies,
    );
    let mut res = next.run(req).await;
    if origin.forwarded_https && !state.config.secure_cookies {
        let cookies: Vec<HeaderValue> = res
            .headers_mut()
            .get_all(header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        if !cookies.is_empty() {
            res.headers_mut().remove(header::SET_COOKIE);
            for c in cookies {
                let secured = match c.to_str() {
                    Ok(s) if !s.to_ascii_lowercase().contains("; secure") => {
                        HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or(c)
                    }
                    _ => c,
                };
                res.headers_mut().append(header::SET_COOKIE, secured);
            }
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| parse_net(s).unwrap()).collect()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
        ]);
        let o = Origin::of(ip("198.51.100.1"), &h, &nets(&["10.0.0.0/8"]));
        assert_eq!(o.client, ip("198.51.100.1"));
        assert!(!o.forwarded_https);
        assert!(o.untrusted_forwarding);
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_scheme() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
        ]);
        let o = Origin::of(ip("10.1.2.3"), &h, &nets(&["10.0.0.0/8"]));
        assert_eq!(o.client, ip("203.0.113.9"));
        assert!(o.forwarded_https);
    }

    #[test]
    fn entries_left_of_the_first_untrusted_hop_cannot_be_forged_in() {
        // The client sent "X-Forwarded-For: 1.2.3.4" itself; our proxy appended its real address.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.7")]);
        let o = Origin::of(ip("10.0.0.2"), &h, &nets(&["10.0.0.0/8"]));
        assert_eq!(o.client, ip("203.0.113.9"));
    }

    #[test]
    fn rfc7239_forwarded_is_read_when_x_forwarded_for_is_absent() {
        let h = headers(&[(
            "forwarded",
            "for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.9",
        )]);
        let o = Origin::of(ip("127.0.0.1"), &h, &nets(&["127.0.0.1", "10.0.0.0/8"]));
        assert_eq!(o.client, ip("2001:db8::1"));
        assert!(o.forwarded_https);
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        assert!(contains(
            &nets(&["127.0.0.0/8"]),
            "::ffff:127.0.0.1".parse().unwrap()
        ));
        assert!(parse_net("not-an-ip").is_err());
        assert_eq!(parse_net("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
    }
}
