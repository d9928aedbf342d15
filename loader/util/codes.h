/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The error codes of diagnostics, as the EC2 API names the same faults, so
 * that a message reads like the one AWS would give ("sgctl: lab.yaml:9:17:
 * InvalidPermission.Malformed: ..."). One list for every stage that reports
 * about a config: the AWS JSON reader and the validator.
 */
#ifndef SG_CODES_H
#define SG_CODES_H

#define SG_E_PARAM	"InvalidParameterValue"
#define SG_E_MISSING	"MissingParameter"
#define SG_E_MALFORMED	"InvalidPermission.Malformed"
#define SG_E_DUPRULE	"InvalidPermission.Duplicate"
#define SG_E_NOTFOUND	"InvalidGroup.NotFound"
#define SG_E_GDUP	"InvalidGroup.Duplicate"
#define SG_E_RESERVED	"InvalidGroup.Reserved"
#define SG_E_PLNOTFOUND "InvalidPrefixListID.NotFound"
#define SG_E_RULELIMIT	"RulesPerSecurityGroupLimitExceeded"
#define SG_E_SGLIMIT	"SecurityGroupsPerInterfaceLimitExceeded"
/* The edits (desired/edit.h). */
#define SG_E_RULENOTFOUND "InvalidPermission.NotFound"
#define SG_E_DEPENDENCY	"DependencyViolation"
#define SG_E_CANNOTDELETE "CannotDelete"
#define SG_E_INSTNOTFOUND "InvalidInstanceID.NotFound"
#define SG_E_INSTDUP	"InvalidInstanceID.Duplicate"

#endif /* SG_CODES_H */
