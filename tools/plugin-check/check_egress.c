#include "check.h"
void ck_egress(struct ck *c)
{
	ck_lifecycle(c);
}
