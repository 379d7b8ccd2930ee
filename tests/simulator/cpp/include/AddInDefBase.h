// The connection object the platform passes to IInitDoneBase::Init, and the
// interfaces reachable through IAddInDefBaseEx::GetInterface.
#ifndef ONEC_SIM_ADDIN_DEF_BASE_H
#define ONEC_SIM_ADDIN_DEF_BASE_H

#include "types.h"

struct IInterface {};

enum Interfaces {
  eIMsgBox = 0,
  eIPlatformInfo,
#if defined(__ANDROID__)
  eIAndroidComponentHelper,
#endif
  eIAttachedInfo,
};

class IAddInDefBase {
 public:
  ONEC_VIRTUAL_DTOR(IAddInDefBase)
  virtual bool ADDIN_API AddError(unsigned short wcode, const WCHAR_T* source, const WCHAR_T* descr,
                                  long scode) = 0;
  virtual bool ADDIN_API Read(WCHAR_T* wszPropName, tVariant* pVal, long* pErrCode,
                              WCHAR_T** errDescriptor) = 0;
  virtual bool ADDIN_API Write(WCHAR_T* wszPropName, tVariant* pVar) = 0;
  virtual bool ADDIN_API RegisterProfileAs(WCHAR_T* wszProfileName) = 0;
  virtual bool ADDIN_API SetEventBufferDepth(long lDepth) = 0;
  virtual long ADDIN_API GetEventBufferDepth() = 0;
  virtual bool ADDIN_API ExternalEvent(WCHAR_T* wszSource, WCHAR_T* wszMessage, WCHAR_T* wszData) = 0;
  virtual void ADDIN_API CleanEventBuffer() = 0;
  virtual bool ADDIN_API SetStatusLine(WCHAR_T* wszStatusLine) = 0;
  virtual void ADDIN_API ResetStatusLine() = 0;
};

class IAddInDefBaseEx : public IAddInDefBase {
 public:
#ifndef ONEC_MSVC_DTOR_EMULATION
  virtual ~IAddInDefBaseEx() {}
#endif
  // On Windows the returned pointer is the IInterface subobject as MSVC lays it out,
  // one pointer past the vptr: an add-in moves it back by sizeof(void*) (which is
  // what static_cast<IMsgBox*> does under MSVC). On Linux (GCC) it is the object itself.
  virtual IInterface* ADDIN_API GetInterface(Interfaces iface) = 0;
};

struct IMsgBox : public IInterface {
  virtual bool ADDIN_API Confirm(const WCHAR_T* queryText, tVariant* retVal) = 0;
  virtual bool ADDIN_API Alert(const WCHAR_T* text) = 0;
};

struct IPlatformInfo : public IInterface {
  enum AppType {
    eAppUnknown = -1,
    eAppThinClient = 0,
    eAppThickClient,
    eAppWebClient,
    eAppServer,
    eAppExtConn,
    eAppMobileClient,
    eAppMobileServer,
  };
  struct AppInfo {
    const WCHAR_T* AppVersion;
    const WCHAR_T* UserAgentInformation;
    AppType Application;
  };
  virtual const AppInfo* ADDIN_API GetPlatformInfo() = 0;
};

struct IAttachedInfo : public IInterface {
  enum AttachedType {
    eAttachedIsolated = 0,
    eAttachedNotIsolated,
  };
  // The SDK declares the return type `const AttachedType`; the const means nothing for a
  // by-value return (and draws a warning), so it is left out here. The ABI is the same.
  virtual AttachedType ADDIN_API GetAttachedInfo() = 0;
};

#endif  // ONEC_SIM_ADDIN_DEF_BASE_H
