// The platform's memory manager, handed to the add-in by setMemManager. Every string
// or blob the add-in gives to the platform must come from AllocMemory; the platform
// releases it with FreeMemory.
#ifndef ONEC_SIM_IMEMORY_MANAGER_H
#define ONEC_SIM_IMEMORY_MANAGER_H

#include "types.h"

class IMemoryManager {
 public:
  ONEC_VIRTUAL_DTOR(IMemoryManager)
  virtual bool ADDIN_API AllocMemory(void** pMemory, unsigned long ulCountByte) = 0;
  virtual void ADDIN_API FreeMemory(void** pMemory) = 0;
};

#endif  // ONEC_SIM_IMEMORY_MANAGER_H
