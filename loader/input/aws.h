/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * AWS's own JSON as input: the output of `aws ec2 describe-security-groups`
 * (key SecurityGroups) and `aws ec2 describe-network-interfaces` (key
 * NetworkInterfaces), translated into the composed config document of
 * document.h, where config/ validates it like YAML.
 *
 *   SecurityGroups[].GroupId            security_groups.<GroupId>
 *     GroupName, Description            name, description
 *     IpPermissions / IpPermissionsEgress   inbound / outbound, one rule
 *                                       per IpRanges, Ipv6Ranges,
 *                                       PrefixListIds, UserIdGroupPairs item
 *     VpcId, OwnerId                    vpc, account
 *   NetworkInterfaces[].NetworkInterfaceId   instances.<id>
 *     PrivateIpAddresses, Ipv6Addresses ips
 *     Groups[].GroupId                  security_groups
 *     SourceDestCheck                   source_dest_check
 */
#ifndef SG_AWS_H
#define SG_AWS_H

#include <stddef.h>

#include "input/document.h"

/*
 * Translates one JSON input (index input of the load) into m. Syntax errors
 * are reported as FILE:LINE:COL, everything else as FILE: JSON.path.
 * Returns 0, or -ENOMEM (also when m ran out of memory before).
 */
int sg_aws_add(struct sg_mdoc *m, size_t input, const char *name,
	       const char *text, size_t len);

#endif /* SG_AWS_H */
