// IComponentBase and the exports of a native add-in, as the 1C platform sees them.
// Method order is the platform's documented order (ComponentBase.h of the SDK);
// the vtables are laid out by the C++ compiler, not by hand.
#ifndef ONEC_SIM_COMPONENT_BASE_H
#define ONEC_SIM_COMPONENT_BASE_H

#include "types.h"

/// Initialisation and shutdown of the object.
class IInitDoneBase {
 public:
  ONEC_VIRTUAL_DTOR(IInitDoneBase)
  virtual bool ADDIN_API Init(void* disp) = 0;
  virtual bool ADDIN_API setMemManager(void* mem) = 0;
  virtual long ADDIN_API GetInfo() = 0;  // 2000 = version 2
  virtual void ADDIN_API Done() = 0;
};

/// The object as a set of properties and methods. Alias 0 = international name, 1 = Russian.
class ILanguageExtenderBase {
 public:
  ONEC_VIRTUAL_DTOR(ILanguageExtenderBase)
  virtual bool ADDIN_API RegisterExtensionAs(WCHAR_T** wsExtensionName) = 0;
  virtual long ADDIN_API GetNProps() = 0;
  virtual long ADDIN_API FindProp(const WCHAR_T* wsPropName) = 0;
  virtual const WCHAR_T* ADDIN_API GetPropName(long lPropNum, long lPropAlias) = 0;
  virtual bool ADDIN_API GetPropVal(const long lPropNum, tVariant* pvarPropVal) = 0;
  virtual bool ADDIN_API SetPropVal(const long lPropNum, tVariant* varPropVal) = 0;
  virtual bool ADDIN_API IsPropReadable(const long lPropNum) = 0;
  virtual bool ADDIN_API IsPropWritable(const long lPropNum) = 0;
  virtual long ADDIN_API GetNMethods() = 0;
  virtual long ADDIN_API FindMethod(const WCHAR_T* wsMethodName) = 0;
  virtual const WCHAR_T* ADDIN_API GetMethodName(const long lMethodNum, const long lMethodAlias) = 0;
  virtual long ADDIN_API GetNParams(const long lMethodNum) = 0;
  virtual bool ADDIN_API GetParamDefValue(const long lMethodNum, const long lParamNum,
                                          tVariant* pvarParamDefValue) = 0;
  virtual bool ADDIN_API HasRetVal(const long lMethodNum) = 0;
  virtual bool ADDIN_API CallAsProc(const long lMethodNum, tVariant* paParams, const long lSizeArray) = 0;
  virtual bool ADDIN_API CallAsFunc(const long lMethodNum, tVariant* pvarRetValue, tVariant* paParams,
                                    const long lSizeArray) = 0;
};

/// Locale of the component ("ru_RU" on Linux, "rus_RUS" on Windows, ...).
class LocaleBase {
 public:
  ONEC_VIRTUAL_DTOR(LocaleBase)
  virtual void ADDIN_API SetLocale(const WCHAR_T* loc) = 0;
};

/// Interface language of the session ("ru", "en", ...). The SDK calls it UserLanguageBase.
class UserLanguageBase {
 public:
  ONEC_VIRTUAL_DTOR(UserLanguageBase)
  virtual void ADDIN_API SetUserInterfaceLanguageCode(const WCHAR_T* lang) = 0;
};
typedef UserLanguageBase IUserLanguageBase;

/// What every add-in object implements: four bases, so four vptrs at word offsets 0..3.
class IComponentBase : public IInitDoneBase,
                       public ILanguageExtenderBase,
                       public LocaleBase,
                       public UserLanguageBase {
 public:
#ifndef ONEC_MSVC_DTOR_EMULATION
  virtual ~IComponentBase() {}
#endif
};

enum AppCapabilities {
  eAppCapabilitiesInvalid = -1,
  eAppCapabilities1 = 1,
  eAppCapabilities2 = 2,
  eAppCapabilities3 = 3,
  eAppCapabilitiesLast = eAppCapabilities3,
};

enum AttachType {
  eCanAttachNotIsolated = 1,
  eCanAttachIsolated,
  eCanAttachAny,
};

// Exported functions of an add-in library (plain C convention on every OS).
typedef long (*GetClassObjectPtr)(const WCHAR_T* wsName, IComponentBase** pIntf);
typedef long (*DestroyObjectPtr)(IComponentBase** pIntf);
typedef const WCHAR_T* (*GetClassNamesPtr)();
typedef AppCapabilities (*SetPlatformCapabilitiesPtr)(const AppCapabilities capabilities);
typedef AttachType (*GetAttachTypePtr)();

#endif  // ONEC_SIM_COMPONENT_BASE_H
