// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The console's rule Types (config/ruletype.c): the menu's order and
 * names, the Type a rule shows as, and its Port range.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <linux/types.h>

#include "sgctl.h"
#include "config/model.h"
#include "config/ruletype.h"

static const char *type_of(int proto, int lo, int hi)
{
	return sg_ruletype_of(proto, lo, hi, SG_ANY);
}

Test(ruletype, menu_order)
{
	static const char *const first[] = {
		"Custom TCP",
		"Custom UDP",
		"Custom ICMP - IPv4",
		"Custom ICMP - IPv6",
		"Custom protocol",
		"All TCP",
		"All UDP",
		"All ICMP - IPv4",
		"All ICMP - IPv6",
		"All traffic",
		"SSH",
		"SMTP",
		"DNS (UDP)",
		"DNS (TCP)",
		"HTTP",
	};

	cr_assert_geq(sg_nruletypes, sizeof(first) / sizeof(first[0]));
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		cr_expect_str_eq(sg_ruletypes[i].name, first[i], "entry %zu",
				 i);
	cr_expect_str_eq(sg_ruletypes[sg_nruletypes - 1].name, "WinRM-HTTPS");
}

Test(ruletype, names_unique_and_found)
{
	for (size_t i = 0; i < sg_nruletypes; i++) {
		cr_expect_eq(sg_ruletype_find(sg_ruletypes[i].name),
			     &sg_ruletypes[i], "%s", sg_ruletypes[i].name);
		for (size_t k = i + 1; k < sg_nruletypes; k++)
			cr_expect_str_neq(sg_ruletypes[i].name,
					  sg_ruletypes[k].name);
	}
	cr_expect_eq(sg_ruletype_find("http"), sg_ruletype_find("HTTP"));
	cr_expect_null(sg_ruletype_find("Gopher"));
	cr_expect_null(sg_ruletype_find(NULL));
}

/* Every fixed named type names itself back. */
Test(ruletype, fixed_types_round_trip)
{
	for (size_t i = 0; i < sg_nruletypes; i++) {
		const struct sg_ruletype *t = &sg_ruletypes[i];

		if (!t->fixed)
			continue;
		cr_expect_str_eq(type_of(t->proto, t->port_lo, t->port_hi),
				 t->name);
	}
}

Test(ruletype, rule_types)
{
	cr_expect_str_eq(type_of(SG_PROTO_TCP, 80, 80), "HTTP");
	cr_expect_str_eq(type_of(SG_PROTO_TCP, 443, 443), "HTTPS");
	cr_expect_str_eq(type_of(SG_PROTO_TCP, 22, 22), "SSH");
	cr_expect_str_eq(type_of(SG_PROTO_TCP, 3306, 3306), "MYSQL/Aurora");
	cr_expect_str_eq(type_of(SG_PROTO_TCP, 1433, 1433), "MS SQL");
	cr_expect_str_eq(type_of(SG_PROTO_TCP, 53, 53), "DNS (TCP)");
	cr_expect_str_eq(type_of(SG_PROTO_UDP, 53, 53), "DNS (UDP)");
	cr_expect_str_eq(type_of(SG_PROTO_TCP, 8080, 8080), "Custom TCP");
	cr_expect_str_eq(type_of(SG_PROTO_TCP, 80, 81), "Custom TCP");
	cr_expect_str_eq(type_of(SG_PROTO_UDP, 80, 80), "Custom UDP");
	cr_expect_str_eq(type_of(SG_PROTO_UDP, 22, 22), "Custom UDP");
	cr_expect_str_eq(type_of(SG_PROTO_TCP, 0, 65535), "All TCP");
	cr_expect_str_eq(type_of(SG_PROTO_UDP, 0, 65535), "All UDP");
	cr_expect_str_eq(type_of(SG_PROTO_TCP, 1, 65535), "Custom TCP");
	cr_expect_str_eq(type_of(SG_PROTO_ALL, -1, -1), "All traffic");
	cr_expect_str_eq(type_of(SG_PROTO_ICMP, -1, -1), "All ICMP - IPv4");
	cr_expect_str_eq(type_of(SG_PROTO_ICMPV6, -1, -1), "All ICMP - IPv6");
	cr_expect_str_eq(sg_ruletype_of(SG_PROTO_ICMP, -1, -1, 8),
			 "Custom ICMP - IPv4");
	cr_expect_str_eq(sg_ruletype_of(SG_PROTO_ICMPV6, -1, -1, 128),
			 "Custom ICMP - IPv6");
	cr_expect_str_eq(type_of(47, -1, -1), "Custom protocol");
	cr_expect_str_eq(type_of(0, -1, -1), "Custom protocol");
}

Test(ruletype, port_range)
{
	char b[16];

	cr_expect_str_eq(
		sg_port_range_str(SG_PROTO_TCP, 80, 80, SG_ANY, b, sizeof(b)),
		"80");
	cr_expect_str_eq(sg_port_range_str(SG_PROTO_UDP, 8000, 8080, SG_ANY, b,
					   sizeof(b)),
			 "8000-8080");
	cr_expect_str_eq(
		sg_port_range_str(SG_PROTO_TCP, 0, 65535, SG_ANY, b, sizeof(b)),
		"0-65535");
	cr_expect_str_eq(
		sg_port_range_str(SG_PROTO_ALL, -1, -1, SG_ANY, b, sizeof(b)),
		"All");
	cr_expect_str_eq(
		sg_port_range_str(SG_PROTO_ICMP, -1, -1, SG_ANY, b, sizeof(b)),
		"All");
	cr_expect_str_eq(
		sg_port_range_str(SG_PROTO_ICMP, -1, -1, 8, b, sizeof(b)),
		"N/A");
	cr_expect_str_eq(sg_port_range_str(47, -1, -1, SG_ANY, b, sizeof(b)),
			 "All");
}

Test(ruletype, protocol_names)
{
	cr_expect_str_eq(sg_ruletype_protocol(sg_ruletype_find("HTTP")), "tcp");
	cr_expect_str_eq(sg_ruletype_protocol(sg_ruletype_find("DNS (UDP)")),
			 "udp");
	cr_expect_str_eq(sg_ruletype_protocol(sg_ruletype_find("All traffic")),
			 "all");
	cr_expect_str_eq(
		sg_ruletype_protocol(sg_ruletype_find("All ICMP - IPv6")),
		"icmpv6");
	cr_expect_null(
		sg_ruletype_protocol(sg_ruletype_find("Custom protocol")));
}

/* Each type's preset is the config's, with the same protocol and ports. */
Test(ruletype, presets_agree_with_the_parser)
{
	for (size_t i = 0; i < sg_nruletypes; i++) {
		const struct sg_ruletype *t = &sg_ruletypes[i];
		struct sg_config cfg = {0};
		struct sg_diag diag;
		const struct sg_rule *r;
		char text[256];

		cr_expect_eq(!!t->preset, t->fixed, "%s", t->name);
		if (!t->preset)
			continue;
		snprintf(text, sizeof(text),
			 "security_groups:\n  sg-a:\n    inbound:\n"
			 "      - { type: %s, source: 0.0.0.0/0 }\n",
			 t->preset);
		sg_diag_init(&diag);
		cr_assert_eq(sg_config_parse_string("t.yaml", text,
						    strlen(text), &cfg, &diag),
			     0, "%s", t->preset);
		r = &cfg.groups[sg_config_find_group(&cfg, "sg-a")].rules[0];
		cr_expect_eq(r->proto, t->proto, "%s", t->name);
		cr_expect_eq(r->port_lo, t->port_lo, "%s", t->name);
		cr_expect_eq(r->port_hi, t->port_hi, "%s", t->name);
		cr_expect_str_eq(sg_ruletype_of(r->proto, r->port_lo,
						r->port_hi, r->icmp_type),
				 t->name);
		sg_config_free(&cfg);
		sg_diag_free(&diag);
	}
}
