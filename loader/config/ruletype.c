// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The AWS console's rule Types. The list follows the console's Type menu
 * (the custom and "All" entries first, then the named services by port),
 * with the names as the EC2 documentation writes them ("MYSQL/Aurora",
 * "MS SQL", "Oracle-RDS"). A rule shows as the first named service with
 * its protocol and single port, else as the custom or "All" entry.
 */
#include <stdio.h>
#include <strings.h>

#include <linux/types.h>

#include "sgctl.h"
#include "config/model.h"
#include "config/ruletype.h"

/* A named service and the preset of docs/usage.md "Rules" it is. */
/* clang-format off */
#define TCP(n, p, pre) {n, SG_PROTO_TCP, p, p, true, false, pre}
#define UDP(n, p, pre) {n, SG_PROTO_UDP, p, p, true, false, pre}
/* clang-format on */

const struct sg_ruletype sg_ruletypes[] = {
	{"Custom TCP", SG_PROTO_TCP, -1, -1, false, false, NULL},
	{"Custom UDP", SG_PROTO_UDP, -1, -1, false, false, NULL},
	{"Custom ICMP - IPv4", SG_PROTO_ICMP, -1, -1, false, false, NULL},
	{"Custom ICMP - IPv6", SG_PROTO_ICMPV6, -1, -1, false, false, NULL},
	{"Custom protocol", SG_RULETYPE_ANY_PROTO, -1, -1, false, false, NULL},
	{"All TCP", SG_PROTO_TCP, 0, 65535, true, false, "all-tcp"},
	{"All UDP", SG_PROTO_UDP, 0, 65535, true, false, "all-udp"},
	{"All ICMP - IPv4", SG_PROTO_ICMP, -1, -1, true, true, "all-icmp"},
	{"All ICMP - IPv6", SG_PROTO_ICMPV6, -1, -1, true, true, "all-icmpv6"},
	{"All traffic", SG_PROTO_ALL, -1, -1, true, false, "all-traffic"},
	TCP("SSH", 22, "ssh"),
	TCP("SMTP", 25, "smtp"),
	UDP("DNS (UDP)", 53, "dns-udp"),
	TCP("DNS (TCP)", 53, "dns-tcp"),
	TCP("HTTP", 80, "http"),
	TCP("POP3", 110, "pop3"),
	TCP("IMAP", 143, "imap"),
	TCP("LDAP", 389, "ldap"),
	TCP("HTTPS", 443, "https"),
	TCP("SMB", 445, "smb"),
	TCP("SMTPS", 465, "smtps"),
	TCP("IMAPS", 993, "imaps"),
	TCP("POP3S", 995, "pop3s"),
	TCP("MS SQL", 1433, "mssql"),
	TCP("NFS", 2049, "nfs"),
	TCP("MYSQL/Aurora", 3306, "mysql"),
	TCP("RDP", 3389, "rdp"),
	TCP("Redshift", 5439, "redshift"),
	TCP("PostgreSQL", 5432, "postgresql"),
	TCP("Oracle-RDS", 1521, "oracle"),
	TCP("WinRM-HTTP", 5985, "winrm-http"),
	TCP("WinRM-HTTPS", 5986, "winrm-https"),
};

const size_t sg_nruletypes = sizeof(sg_ruletypes) / sizeof(sg_ruletypes[0]);

const struct sg_ruletype *sg_ruletype_find(const char *name)
{
	for (size_t i = 0; name && i < sg_nruletypes; i++)
		if (!strcasecmp(sg_ruletypes[i].name, name))
			return &sg_ruletypes[i];
	return NULL;
}

const char *sg_ruletype_of(int proto, int port_lo, int port_hi, int icmp_type)
{
	switch (proto) {
	case SG_PROTO_ALL:
		return "All traffic";
	case SG_PROTO_ICMP:
		return icmp_type == SG_ANY ? "All ICMP - IPv4"
					   : "Custom ICMP - IPv4";
	case SG_PROTO_ICMPV6:
		return icmp_type == SG_ANY ? "All ICMP - IPv6"
					   : "Custom ICMP - IPv6";
	case SG_PROTO_TCP:
	case SG_PROTO_UDP:
		break;
	default:
		return "Custom protocol";
	}
	if (port_lo == 0 && port_hi == 65535)
		return proto == SG_PROTO_TCP ? "All TCP" : "All UDP";
	if (port_lo == port_hi)
		for (size_t i = 0; i < sg_nruletypes; i++) {
			const struct sg_ruletype *t = &sg_ruletypes[i];

			if (t->fixed && t->proto == proto &&
			    t->port_lo == port_lo && t->port_hi == port_hi)
				return t->name;
		}
	return proto == SG_PROTO_TCP ? "Custom TCP" : "Custom UDP";
}

const char *sg_port_range_str(int proto, int port_lo, int port_hi,
			      int icmp_type, char *buf, size_t len)
{
	if ((proto == SG_PROTO_TCP || proto == SG_PROTO_UDP) && port_lo >= 0) {
		if (port_lo == port_hi)
			snprintf(buf, len, "%d", port_lo);
		else
			snprintf(buf, len, "%d-%d", port_lo, port_hi);
		return buf;
	}
	if ((proto == SG_PROTO_ICMP || proto == SG_PROTO_ICMPV6) &&
	    icmp_type != SG_ANY)
		return "N/A";
	return "All";
}

const char *sg_ruletype_protocol(const struct sg_ruletype *t)
{
	if (t->proto == SG_PROTO_ALL)
		return "all";
	return sg_proto_name(t->proto);
}
