#include "check.h"
void ck_transport(struct ck *c)
{
	ck_lifecycle(c);
}
