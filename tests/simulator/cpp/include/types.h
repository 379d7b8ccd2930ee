// Platform types of the 1C:Enterprise Native API, declared for the simulator.
//
// Written from 1C's public add-in documentation (types.h of the Native API SDK):
// the same names, the same member order, the same sizes. Keep this header free of
// anything Linux-only: it is also compiled by x86_64-w64-mingw32-g++ for a Wine host.
#ifndef ONEC_SIM_TYPES_H
#define ONEC_SIM_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#if defined(_WIN32) || defined(_WINDOWS)
#define ONEC_WINDOWS 1
#endif

// Calling convention of the interface methods: __stdcall on Windows (it only
// matters on x86; x64 has a single convention), the default elsewhere.
#ifndef ADDIN_API
#ifdef ONEC_WINDOWS
#define ADDIN_API __stdcall
#else
#define ADDIN_API
#endif
#endif

// Plain exported functions are extern "C" with the default (cdecl) convention.
#ifdef ONEC_WINDOWS
#define ONEC_EXPORT extern "C" __declspec(dllexport)
#else
#define ONEC_EXPORT extern "C" __attribute__((visibility("default")))
#endif

// 2-byte UTF-16 code units: wchar_t on Windows; uint16_t in 1C's Linux SDK. We use
// char16_t on Linux: same size, alignment and ABI as uint16_t, but u"" literals work.
#ifdef ONEC_WINDOWS
#define WCHAR_T wchar_t
#define ONEC_W(s) L##s
#else
#define WCHAR_T char16_t
#define ONEC_W(s) u##s
#endif

// Virtual destructors.
// GCC/Clang (Itanium C++ ABI) give a class with a virtual destructor TWO vtable
// slots (complete + deleting destructor); MSVC gives ONE (scalar deleting
// destructor taking a flags argument). 1C on Windows is built with MSVC, so an
// add-in for Windows expects one slot. When this header is compiled by MinGW g++
// we therefore replace the destructor with a single virtual method that occupies
// that one slot, with MSVC's signature (this, unsigned flags); bit 0 of flags means
// "free the memory". Classes that are really destroyed through it override it with
// ONEC_MSVC_DELETING_DTOR_IMPL.
#if defined(ONEC_WINDOWS) && defined(__GNUC__) && !defined(ONEC_ITANIUM_DTORS)
#define ONEC_MSVC_DTOR_EMULATION 1
#if defined(__i386__)
#define ONEC_THISCALL __attribute__((thiscall))
#else
#define ONEC_THISCALL
#endif
#define ONEC_VIRTUAL_DTOR(Class) \
  virtual void* ONEC_THISCALL onec_msvc_deleting_dtor(unsigned int /*flags*/) { return this; }
#define ONEC_MSVC_DELETING_DTOR_IMPL(Class)                                          \
  void* ONEC_THISCALL onec_msvc_deleting_dtor(unsigned int flags) override {        \
    this->~Class();                                                                  \
    if (flags & 1) ::operator delete(static_cast<void*>(this));                      \
    return this;                                                                     \
  }
#else
#define ONEC_VIRTUAL_DTOR(Class) virtual ~Class() {}
#define ONEC_MSVC_DELETING_DTOR_IMPL(Class)
#endif

// Message codes for IAddInDefBase::AddError.
#define ADDIN_E_NONE 1000
#define ADDIN_E_ORDINARY 1001
#define ADDIN_E_ATTENTION 1002
#define ADDIN_E_IMPORTANT 1003
#define ADDIN_E_VERY_IMPORTANT 1004
#define ADDIN_E_INFO 1005
#define ADDIN_E_FAIL 1006
#define ADDIN_E_MSGBOX_ATTENTION 1007
#define ADDIN_E_MSGBOX_INFO 1008
#define ADDIN_E_MSGBOX_FAIL 1009

typedef double DATE;

// 16-byte GUID, as in the SDK's com.h.
#ifndef ONEC_WINDOWS
typedef struct _onec_GUID {
  uint32_t Data1;
  uint16_t Data2;
  uint16_t Data3;
  uint8_t Data4[8];
} GUID;
typedef GUID IID;
typedef GUID CLSID;
#else
#include <guiddef.h>
#endif

typedef unsigned short TYPEVAR;
enum ENUMVAR {
  VTYPE_EMPTY = 0,
  VTYPE_NULL,
  VTYPE_I2,         // int16_t
  VTYPE_I4,         // int32_t
  VTYPE_R4,         // float
  VTYPE_R8,         // double
  VTYPE_DATE,       // DATE (double)
  VTYPE_TM,         // struct tm
  VTYPE_PSTR,       // struct str
  VTYPE_INTERFACE,  // struct iface
  VTYPE_ERROR,      // int32_t errCode
  VTYPE_BOOL,       // bool
  VTYPE_VARIANT,    // struct _tVariant*
  VTYPE_I1,         // int8_t
  VTYPE_UI1,        // uint8_t
  VTYPE_UI2,        // uint16_t
  VTYPE_UI4,        // uint32_t
  VTYPE_I8,         // int64_t
  VTYPE_UI8,        // uint64_t
  VTYPE_INT,        // int
  VTYPE_UINT,       // unsigned int
  VTYPE_HRESULT,    // long hRes
  VTYPE_PWSTR,      // struct wstr
  VTYPE_BLOB,       // struct str holding binary data
  VTYPE_CLSID,      // UUID
  VTYPE_STR_BLOB = 0xfff,
  VTYPE_VECTOR = 0x1000,
  VTYPE_ARRAY = 0x2000,
  VTYPE_BYREF = 0x4000,
  VTYPE_RESERVED = 0x8000,
  VTYPE_ILLEGAL = 0xffff,
  VTYPE_ILLEGALMASKED = 0xfff,
  VTYPE_TYPEMASK = 0xfff
};

// tVariant: a union, then cbElements, then vt. Its size follows from the largest
// member, struct tm (56 bytes on Linux x86_64, 36 on Windows).
struct _tVariant {
  union {
    int8_t i8Val;
    int16_t shortVal;
    int32_t lVal;
    int intVal;
    unsigned int uintVal;
    int64_t llVal;
    uint8_t ui8Val;
    uint16_t ushortVal;
    uint32_t ulVal;
    uint64_t ullVal;
    int32_t errCode;
    long hRes;
    float fltVal;
    double dblVal;
    bool bVal;
    char chVal;
    wchar_t wchVal;
    DATE date;
    IID IDVal;
    struct _tVariant* pvarVal;
    struct tm tmVal;
    struct {
      void* pInterfaceVal;
      IID InterfaceID;
    } iface;
    struct {
      char* pstrVal;
      uint32_t strLen;  // count of bytes
    } str;
    struct {
      WCHAR_T* pwstrVal;
      uint32_t wstrLen;  // count of UTF-16 code units
    } wstr;
  } u;
  uint32_t cbElements;  // dimension of a one-dimensional array in pvarVal
  TYPEVAR vt;
};
typedef struct _tVariant tVariant;
typedef tVariant tVariantArg;

#if defined(__x86_64__) && !defined(ONEC_WINDOWS)
static_assert(sizeof(tVariant) == 64, "tVariant is 64 bytes on Linux x86_64");
static_assert(offsetof(tVariant, cbElements) == 56, "cbElements at 56");
static_assert(offsetof(tVariant, vt) == 60, "vt at 60");
#elif defined(__i386__) && !defined(ONEC_WINDOWS)
static_assert(sizeof(tVariant) == 52, "tVariant is 52 bytes on Linux i686");
#elif defined(ONEC_WINDOWS)
static_assert(sizeof(tVariant) == 48, "tVariant is 48 bytes on Windows");
static_assert(offsetof(tVariant, vt) == 44, "vt at 44");
#endif

inline void tVarInit(tVariant* v) {
  memset(v, 0, sizeof(tVariant));
  v->vt = VTYPE_EMPTY;
}

#endif  // ONEC_SIM_TYPES_H
