/* SPDX-License-Identifier: Apache-2.0 */
/* Layout dump and known-value records for the decoder test. */
#ifndef NETPULSE_LOADER_SELFTEST_H
#define NETPULSE_LOADER_SELFTEST_H
#include <stdio.h>
#include <linux/types.h>
#include "flow_record.h"
int print_layout(void);
int write_selftest(FILE *out);
#endif
