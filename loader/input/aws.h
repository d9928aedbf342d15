/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * AWS's own JSON as input: the output of `aws ec2 describe-security-groups`
 * (key SecurityGroups), `describe-security-group-rules` (key
 * SecurityGroupRules) and `aws ec2 describe-network-interfaces` (key
 * NetworkInterfaces), translated into the composed config document of
 * document.h, where config/ validates it like YAML.
 *
 *   SecurityGroups[].GroupId            security_groups.<GroupId>
 *     GroupName, Description            name, description
 *     IpPermissions / IpPermissionsEgress   inbound / outbound, one rule
 *                                       per IpRanges, Ipv6Ranges,
 *                                       PrefixListIds, UserIdGroupPairs item
 *     VpcId, OwnerId                    vpc, account
 *     Tags                              tags
 *     a group of another account or VPC outside: WHERE (on the rule)
 *   SecurityGroupRules[]                the rules of GroupId; the
 *     SecurityGroupRuleId, Tags         id, tags of the rule
 *   NetworkInterfaces[].NetworkInterfaceId   instances.<id>
 *     PrivateIpAddresses, Ipv6Addresses ips
 *     Groups[].GroupId                  security_groups
 *     SourceDestCheck                   source_dest_check
 *     Groups: []                        filtered: false (no group at all)
 *     TagSet                            tags
 */
#ifndef SG_AWS_H
#define SG_AWS_H

#include <stddef.h>

#include "input/document.h"
#include "input/inputs.h"

struct sg_aws_input {
	size_t input; /* its index among all inputs */
	const char *name;
	const char *text;
	size_t len;
};

/*
 * Translates the JSON inputs into m, together: describe-security-group-
 * rules output pairs with the groups of describe-security-groups output,
 * and inputs of several VPCs are refused unless opts->vpc takes one (the
 * others are skipped, said in one note). Syntax errors are reported as
 * FILE:LINE:COL, everything else as FILE: JSON.path. Returns 0, or
 * -ENOMEM (also when m ran out of memory before).
 */
int sg_aws_add_all(struct sg_mdoc *m, const struct sg_aws_input *inputs,
		   size_t n, const struct sg_input_opts *opts);

#endif /* SG_AWS_H */
