// A tiny native add-in used to test the simulator itself (not the Telegram add-in).
// Classes: "Tester" (the object under test), "Mismatch" (RegisterExtensionAs
// returns a different name, which the platform must reject) and "NullDtor" (a Tester
// whose vtable has null destructor slots, as some Rust add-in frameworks leave them).
//
// Every platform call is written to a global log, readable through the "Log"
// property and through the exported TestAddinLog() (which also works after the
// object is gone, e.g. to see that the destructor ran).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "AddInDefBase.h"
#include "ComponentBase.h"
#include "IMemoryManager.h"

typedef std::basic_string<WCHAR_T> wstring16;

namespace {
std::mutex g_log_mutex;
std::string g_log;
std::string g_log_copy;
int g_capabilities = 0;  // 0 until the platform tells us (old platforms never do)
std::atomic<int> g_live_objects{0};

void log(const std::string& s) {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  if (!g_log.empty()) g_log += ";";
  g_log += s;
}

std::string narrow(const WCHAR_T* p) {  // UTF-16 -> UTF-8, enough for tests
  std::string out;
  if (!p) return "<null>";
  for (size_t i = 0; p[i]; ++i) {
    uint32_t c = static_cast<uint16_t>(p[i]);
    if (c >= 0xD800 && c <= 0xDBFF && p[i + 1]) {
      c = 0x10000 + ((c - 0xD800) << 10) + (static_cast<uint16_t>(p[i + 1]) - 0xDC00);
      ++i;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

wstring16 widen(const std::string& s) {  // UTF-8 -> UTF-16 (BMP + surrogates)
  wstring16 out;
  for (size_t i = 0; i < s.size();) {
    uint8_t b = static_cast<uint8_t>(s[i]);
    uint32_t c;
    size_t n;
    if (b < 0x80) { c = b; n = 1; }
    else if ((b >> 5) == 6) { c = b & 0x1F; n = 2; }
    else if ((b >> 4) == 14) { c = b & 0x0F; n = 3; }
    else { c = b & 0x07; n = 4; }
    for (size_t k = 1; k < n && i + k < s.size(); ++k) c = (c << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
    i += n;
    if (c >= 0x10000) {
      c -= 0x10000;
      out += static_cast<WCHAR_T>(0xD800 + (c >> 10));
      out += static_cast<WCHAR_T>(0xDC00 + (c & 0x3FF));
    } else {
      out += static_cast<WCHAR_T>(c);
    }
  }
  return out;
}

bool eq_nocase(const WCHAR_T* a, const char16_t* b) {
  if (!a) return false;
  size_t i = 0;
  for (; a[i] && b[i]; ++i) {
    uint16_t x = static_cast<uint16_t>(a[i]), y = static_cast<uint16_t>(b[i]);
    auto lower = [](uint16_t ch) -> uint16_t {
      if (ch >= 'A' && ch <= 'Z') return ch + 32;
      if (ch >= 0x410 && ch <= 0x42F) return ch + 32;  // Cyrillic А..Я
      if (ch == 0x401) return 0x451;                   // Ё
      return ch;
    };
    if (lower(x) != lower(y)) return false;
  }
  return !a[i] && !b[i];
}

struct Name {
  const char16_t* en;
  const char16_t* ru;
};

const Name kProps[] = {
    {u"Name", u"Имя"},            // 0 read/write string
    {u"Counter", u"Счетчик"},     // 1 read-only number
    {u"Log", u"Журнал"},          // 2 read-only string: the call log
    {u"WriteOnly", u"ТолькоЗапись"},  // 3 write-only
    {u"Broken", u"Сломано"},      // 4 readable, but GetPropVal fails (AddError)
};
enum { P_NAME, P_COUNTER, P_LOG, P_WRITEONLY, P_BROKEN, P_LAST };

const Name kMethods[] = {
    {u"Add", u"Сложить"},                  // (a, b = 10) -> a + b
    {u"Fail", u"Ошибка"},                  // (text) AddError(scode != 0) and return false
    {u"FailSilently", u"ТихаяОшибка"},     // () return false without AddError
    {u"Describe", u"Описать"},             // (v) -> "vt=..;..." text describing the variant
    {u"Echo", u"Эхо"},                     // (v) -> v (strings/blobs copied with the memory manager)
    {u"Fire", u"Событие"},                 // (count, delay_ms = 0) -> thread raises `count` events
    {u"SetDepth", u"УстановитьГлубину"},   // (n) -> new depth
    {u"Leak", u"Утечка"},                  // (size) allocate and forget
    {u"DoubleFree", u"ДвойноеОсвобождение"},
    {u"FreeForeign", u"ОсвободитьЧужое"},  // FreeMemory on malloc'ed memory
    {u"Increment", u"Увеличить"},          // procedure: Counter += 1
    {u"PlatformInfo", u"ИнформацияОПлатформе"},  // -> "apptype|version|useragent|isolated"
    {u"ShowAlert", u"Предупреждение"},     // (text) IMsgBox::Alert, then Confirm
    {u"Clean", u"Очистить"},               // CleanEventBuffer
    {u"Results", u"Результаты"},           // -> ExternalEvent results of the last Fire, e.g. "1,0"
    {u"Warn", u"Предупредить"},            // (text) AddError with scode 0 and return true
};
enum {
  M_ADD, M_FAIL, M_FAIL_SILENTLY, M_DESCRIBE, M_ECHO, M_FIRE, M_SET_DEPTH, M_LEAK, M_DOUBLE_FREE,
  M_FREE_FOREIGN, M_INCREMENT, M_PLATFORM_INFO, M_SHOW_ALERT, M_CLEAN, M_RESULTS, M_WARN, M_LAST
};
const long kParams[M_LAST] = {2, 1, 0, 1, 1, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1};
const bool kRetVal[M_LAST] = {true, true, false, true, true, true, true, false, false, false, false,
                              true, false, false, true, false};

class Tester : public IComponentBase {
 public:
  explicit Tester(const char16_t* extension_name) : extension_name_(extension_name) { g_live_objects++; }
  // Set for "NullDtor" objects: the vptr before it was replaced by a copy of the vtable
  // whose destructor slots are null (what some Rust add-in frameworks produce).
  void** original_vptr_ = nullptr;
  ~Tester() {  // virtual through IComponentBase (no `override`: see ONEC_VIRTUAL_DTOR)
    join();
    g_live_objects--;
    log("~Tester");
  }
  ONEC_MSVC_DELETING_DTOR_IMPL(Tester)

  bool ADDIN_API Init(void* disp) override {
    log("Init");
    conn_ = static_cast<IAddInDefBase*>(disp);
    return conn_ != nullptr;
  }
  bool ADDIN_API setMemManager(void* mem) override {
    log("setMemManager");
    mem_ = static_cast<IMemoryManager*>(mem);
    return mem_ != nullptr;
  }
  long ADDIN_API GetInfo() override {
    log("GetInfo");
    return 2000;
  }
  void ADDIN_API Done() override {
    log("Done");
    join();  // no thread of ours may outlive Done
  }
  bool ADDIN_API RegisterExtensionAs(WCHAR_T** name) override {
    log("RegisterExtensionAs");
    *name = alloc_str(extension_name_);
    return *name != nullptr;
  }
  long ADDIN_API GetNProps() override { return P_LAST; }
  long ADDIN_API FindProp(const WCHAR_T* name) override {
    log("FindProp(" + narrow(name) + ")");
    for (long i = 0; i < P_LAST; ++i)
      if (eq_nocase(name, kProps[i].en) || eq_nocase(name, kProps[i].ru)) return i;
    return -1;
  }
  const WCHAR_T* ADDIN_API GetPropName(long num, long alias) override {
    if (num < 0 || num >= P_LAST || alias < 0 || alias > 1) return nullptr;
    return alloc_str(alias == 0 ? kProps[num].en : kProps[num].ru);
  }
  bool ADDIN_API GetPropVal(const long num, tVariant* v) override {
    log("GetPropVal(" + std::to_string(num) + ")");
    switch (num) {
      case P_NAME: return set_str(v, name_);
      case P_COUNTER:
        v->vt = VTYPE_I4;
        v->u.lVal = counter_;
        return true;
      case P_LOG: {
        std::string copy;
        {
          std::lock_guard<std::mutex> lock(g_log_mutex);
          copy = g_log;
        }
        return set_str(v, widen(copy));
      }
      case P_BROKEN:
        conn_->AddError(ADDIN_E_FAIL, ONEC_W("Tester"), ONEC_W("Свойство сломано"), -1);
        return false;
      default: return false;
    }
  }
  bool ADDIN_API SetPropVal(const long num, tVariant* v) override {
    log("SetPropVal(" + std::to_string(num) + ")");
    if (num == P_NAME) {
      if (v->vt != VTYPE_PWSTR) {
        conn_->AddError(ADDIN_E_FAIL, ONEC_W("Tester"), ONEC_W("Name must be a string"), 1);
        return false;
      }
      name_.assign(v->u.wstr.pwstrVal, v->u.wstr.wstrLen);
      return true;
    }
    if (num == P_WRITEONLY) return true;
    return false;
  }
  bool ADDIN_API IsPropReadable(const long num) override {
    log("IsPropReadable(" + std::to_string(num) + ")");
    return num >= 0 && num < P_LAST && num != P_WRITEONLY;
  }
  bool ADDIN_API IsPropWritable(const long num) override {
    log("IsPropWritable(" + std::to_string(num) + ")");
    return num == P_NAME || num == P_WRITEONLY;
  }
  long ADDIN_API GetNMethods() override { return M_LAST; }
  long ADDIN_API FindMethod(const WCHAR_T* name) override {
    log("FindMethod(" + narrow(name) + ")");
    for (long i = 0; i < M_LAST; ++i)
      if (eq_nocase(name, kMethods[i].en) || eq_nocase(name, kMethods[i].ru)) return i;
    return -1;
  }
  const WCHAR_T* ADDIN_API GetMethodName(const long num, const long alias) override {
    if (num < 0 || num >= M_LAST || alias < 0 || alias > 1) return nullptr;
    return alloc_str(alias == 0 ? kMethods[num].en : kMethods[num].ru);
  }
  long ADDIN_API GetNParams(const long num) override {
    log("GetNParams(" + std::to_string(num) + ")");
    return num >= 0 && num < M_LAST ? kParams[num] : 0;
  }
  bool ADDIN_API GetParamDefValue(const long num, const long param, tVariant* v) override {
    log("GetParamDefValue(" + std::to_string(num) + "," + std::to_string(param) + ")");
    if ((num == M_ADD || num == M_FIRE) && param == 1) {
      v->vt = VTYPE_I4;
      v->u.lVal = num == M_ADD ? 10 : 0;
      return true;
    }
    return false;
  }
  bool ADDIN_API HasRetVal(const long num) override {
    log("HasRetVal(" + std::to_string(num) + ")");
    return num >= 0 && num < M_LAST && kRetVal[num];
  }
  bool ADDIN_API CallAsProc(const long num, tVariant* params, const long n) override {
    log("CallAsProc(" + std::to_string(num) + "," + std::to_string(n) + ")");
    return call(num, nullptr, params, n);
  }
  bool ADDIN_API CallAsFunc(const long num, tVariant* ret, tVariant* params, const long n) override {
    log("CallAsFunc(" + std::to_string(num) + "," + std::to_string(n) + ")");
    return call(num, ret, params, n);
  }
  void ADDIN_API SetLocale(const WCHAR_T* loc) override { log("SetLocale(" + narrow(loc) + ")"); }
  void ADDIN_API SetUserInterfaceLanguageCode(const WCHAR_T* lang) override {
    log("SetUserInterfaceLanguageCode(" + narrow(lang) + ")");
  }

 private:
  const char16_t* extension_name_;
  IAddInDefBase* conn_ = nullptr;
  IMemoryManager* mem_ = nullptr;
  wstring16 name_;
  int counter_ = 0;
  std::thread worker_;
  std::string results_;
  std::mutex results_mutex_;

  void join() {
    if (worker_.joinable()) worker_.join();
  }

  template <class Ch>
  WCHAR_T* alloc_str(const Ch* s) {
    size_t n = 0;
    while (s[n]) ++n;
    WCHAR_T* p = nullptr;
    if (!mem_ || !mem_->AllocMemory(reinterpret_cast<void**>(&p), (n + 1) * sizeof(WCHAR_T))) return nullptr;
    for (size_t i = 0; i <= n; ++i) p[i] = static_cast<WCHAR_T>(s[i]);
    return p;
  }
  bool set_str(tVariant* v, const wstring16& s) {
    WCHAR_T* p = alloc_str(s.c_str());
    if (!p) return false;
    v->vt = VTYPE_PWSTR;
    v->u.wstr.pwstrVal = p;
    v->u.wstr.wstrLen = static_cast<uint32_t>(s.size());
    return true;
  }
  bool set_str(tVariant* v, const std::string& s) { return set_str(v, widen(s)); }
  static bool number(const tVariant& v, double* out) {
    if (v.vt == VTYPE_I4) { *out = v.u.lVal; return true; }
    if (v.vt == VTYPE_R8) { *out = v.u.dblVal; return true; }
    return false;
  }
  IInterface* iface(Interfaces which) {
    if (g_capabilities < 1) return nullptr;  // old platform: there is no GetInterface
    IInterface* p = static_cast<IAddInDefBaseEx*>(conn_)->GetInterface(which);
#ifdef ONEC_WINDOWS
    if (p) p = reinterpret_cast<IInterface*>(reinterpret_cast<char*>(p) - sizeof(void*));
#endif
    return p;
  }

  bool call(long num, tVariant* ret, tVariant* params, long n) {
    if (num < 0 || num >= M_LAST) return false;
    if (n != kParams[num]) {  // the platform always passes GetNParams parameters
      conn_->AddError(ADDIN_E_FAIL, ONEC_W("Tester"), ONEC_W("wrong parameter count"), 1);
      return false;
    }
    switch (num) {
      case M_ADD: {
        double a, b;
        if (!number(params[0], &a) || !number(params[1], &b)) {
          conn_->AddError(ADDIN_E_FAIL, ONEC_W("Tester"), ONEC_W("Add: numbers expected"), 1);
          return false;
        }
        if (ret) {
          ret->vt = VTYPE_R8;
          ret->u.dblVal = a + b;
        }
        return true;
      }
      case M_FAIL: {
        wstring16 text = params[0].vt == VTYPE_PWSTR
                             ? wstring16(params[0].u.wstr.pwstrVal, params[0].u.wstr.wstrLen)
                             : wstring16(ONEC_W("failure"));
        conn_->AddError(ADDIN_E_FAIL, ONEC_W("Tester"), text.c_str(), -2147467259 /* E_FAIL */);
        return false;
      }
      case M_FAIL_SILENTLY:
        return false;
      case M_WARN: {
        wstring16 text(params[0].u.wstr.pwstrVal, params[0].u.wstr.wstrLen);
        conn_->AddError(ADDIN_E_INFO, ONEC_W("Tester"), text.c_str(), 0);
        return true;
      }
      case M_DESCRIBE: {
        const tVariant& v = params[0];
        std::string d = "vt=" + std::to_string(v.vt) + ";cb=" + std::to_string(v.cbElements);
        switch (v.vt) {
          case VTYPE_I4: d += ";i4=" + std::to_string(v.u.lVal); break;
          case VTYPE_R8: {
            char buf[64];
            snprintf(buf, sizeof buf, "%.17g", v.u.dblVal);
            d += std::string(";r8=") + buf;
            break;
          }
          case VTYPE_BOOL: d += std::string(";bool=") + (v.u.bVal ? "true" : "false"); break;
          case VTYPE_PWSTR: {
            wstring16 s(v.u.wstr.pwstrVal, v.u.wstr.wstrLen);
            bool terminated = v.u.wstr.pwstrVal[v.u.wstr.wstrLen] == 0;
            d += ";len=" + std::to_string(v.u.wstr.wstrLen) + ";str=" + narrow(s.c_str()) +
                 (terminated ? ";nul" : "");
            break;
          }
          case VTYPE_BLOB: {
            d += ";len=" + std::to_string(v.u.str.strLen) + ";hex=";
            for (uint32_t i = 0; i < v.u.str.strLen; ++i) {
              char buf[4];
              snprintf(buf, sizeof buf, "%02x", static_cast<uint8_t>(v.u.str.pstrVal[i]));
              d += buf;
            }
            break;
          }
          case VTYPE_TM: {
            char buf[96];
            snprintf(buf, sizeof buf, ";tm=%04d-%02d-%02d %02d:%02d:%02d wday=%d yday=%d",
                     v.u.tmVal.tm_year + 1900, v.u.tmVal.tm_mon + 1, v.u.tmVal.tm_mday,
                     v.u.tmVal.tm_hour, v.u.tmVal.tm_min, v.u.tmVal.tm_sec, v.u.tmVal.tm_wday,
                     v.u.tmVal.tm_yday);
            d += buf;
            break;
          }
          case VTYPE_I8: d += ";i8=" + std::to_string(v.u.llVal); break;
          default: break;
        }
        return ret ? set_str(ret, d) : true;
      }
      case M_ECHO: {
        if (!ret) return true;
        *ret = params[0];
        if (params[0].vt == VTYPE_PWSTR) {
          return set_str(ret, wstring16(params[0].u.wstr.pwstrVal, params[0].u.wstr.wstrLen));
        }
        if (params[0].vt == VTYPE_BLOB) {
          void* p = nullptr;
          uint32_t len = params[0].u.str.strLen;
          if (!mem_->AllocMemory(&p, len)) return false;
          memcpy(p, params[0].u.str.pstrVal, len);
          ret->u.str.pstrVal = static_cast<char*>(p);
          return true;
        }
        return true;
      }
      case M_FIRE: {
        double count = 0, delay = 0;
        number(params[0], &count);
        number(params[1], &delay);
        join();
        {
          std::lock_guard<std::mutex> lock(results_mutex_);
          results_.clear();
        }
        IAddInDefBase* conn = conn_;
        worker_ = std::thread([this, conn, count, delay] {
          if (delay > 0) std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(delay)));
          for (int i = 0; i < static_cast<int>(count); ++i) {
            wstring16 data = widen("data-" + std::to_string(i));
            wstring16 src(ONEC_W("Tester")), msg(ONEC_W("Tick"));
            bool ok = conn->ExternalEvent(&src[0], &msg[0], &data[0]);
            std::lock_guard<std::mutex> lock(results_mutex_);
            if (!results_.empty()) results_ += ",";
            results_ += ok ? "1" : "0";
          }
        });
        if (delay <= 0) join();  // synchronous from the caller's point of view
        if (ret) {
          ret->vt = VTYPE_BOOL;
          ret->u.bVal = true;
        }
        return true;
      }
      case M_RESULTS: {
        join();
        std::lock_guard<std::mutex> lock(results_mutex_);
        return ret ? set_str(ret, results_) : true;
      }
      case M_SET_DEPTH: {
        double d = 0;
        number(params[0], &d);
        conn_->SetEventBufferDepth(static_cast<long>(d));
        if (ret) {
          ret->vt = VTYPE_I4;
          ret->u.lVal = static_cast<int32_t>(conn_->GetEventBufferDepth());
        }
        return true;
      }
      case M_LEAK: {
        double size = 0;
        number(params[0], &size);
        void* p = nullptr;
        return mem_->AllocMemory(&p, static_cast<unsigned long>(size));
      }
      case M_DOUBLE_FREE: {
        void* p = nullptr;
        mem_->AllocMemory(&p, 16);
        void* q = p;
        mem_->FreeMemory(&p);
        mem_->FreeMemory(&q);  // second time: must be detected, must not crash
        return true;
      }
      case M_FREE_FOREIGN: {
        void* p = std::malloc(8);
        void* q = p;
        mem_->FreeMemory(&q);
        std::free(p);
        return true;
      }
      case M_INCREMENT:
        ++counter_;
        return true;
      case M_PLATFORM_INFO: {
        IPlatformInfo* info = static_cast<IPlatformInfo*>(iface(eIPlatformInfo));
        IAttachedInfo* att = static_cast<IAttachedInfo*>(iface(eIAttachedInfo));
        if (!info) return ret ? set_str(ret, std::string("none")) : true;
        const IPlatformInfo::AppInfo* ai = info->GetPlatformInfo();
        std::string s = std::to_string(static_cast<int>(ai->Application)) + "|" + narrow(ai->AppVersion) + "|" +
                        narrow(ai->UserAgentInformation) + "|" +
                        (att ? (att->GetAttachedInfo() == IAttachedInfo::eAttachedIsolated ? "isolated" : "not isolated")
                             : "?");
        return ret ? set_str(ret, s) : true;
      }
      case M_SHOW_ALERT: {
        IMsgBox* box = static_cast<IMsgBox*>(iface(eIMsgBox));
        if (!box) return false;
        wstring16 text(params[0].u.wstr.pwstrVal, params[0].u.wstr.wstrLen);
        box->Alert(text.c_str());
        tVariant answer;
        tVarInit(&answer);
        box->Confirm(ONEC_W("Continue?"), &answer);
        return answer.vt == VTYPE_BOOL && answer.u.bVal;
      }
      case M_CLEAN:
        conn_->CleanEventBuffer();
        return true;
      default:
        return false;
    }
  }
};

const char16_t kClassNames[] = u"Tester|Mismatch|NullDtor";

// Replaces the object's primary vtable by a copy with null destructor slots.
void null_destructor_slots(Tester* t) {
#if defined(__GNUC__) && !defined(ONEC_MSVC_DTOR_EMULATION)
  // Itanium layout of the primary vtable: [-2] offset-to-top, [-1] RTTI, [0] complete
  // dtor, [1] deleting dtor, [2..5] Init, setMemManager, GetInfo, Done.
  static void* copy[8];
  void** vptr = *reinterpret_cast<void***>(static_cast<IInitDoneBase*>(t));
  memcpy(copy, vptr - 2, sizeof(copy));
  copy[2] = nullptr;
  copy[3] = nullptr;
  t->original_vptr_ = vptr;
  *reinterpret_cast<void***>(static_cast<IInitDoneBase*>(t)) = copy + 2;
#else
  (void)t;
#endif
}
}  // namespace

ONEC_EXPORT long GetClassObject(const WCHAR_T* name, IComponentBase** out) {
  log("GetClassObject(" + narrow(name) + ")");
  if (!out || *out) return 0;
  if (eq_nocase(name, u"Tester")) {
    *out = new Tester(u"Tester");
  } else if (eq_nocase(name, u"Mismatch")) {
    *out = new Tester(u"SomethingElse");
  } else if (eq_nocase(name, u"NullDtor")) {
    Tester* t = new Tester(u"NullDtor");
    null_destructor_slots(t);
    *out = t;
  } else {
    return 0;
  }
  return 1;
}

ONEC_EXPORT long DestroyObject(IComponentBase** obj) {
  log("DestroyObject");
  if (!obj || !*obj) return -1;
  Tester* t = static_cast<Tester*>(*obj);
  if (t->original_vptr_) *reinterpret_cast<void***>(static_cast<IInitDoneBase*>(t)) = t->original_vptr_;
  delete t;
  *obj = nullptr;
  return 0;
}

ONEC_EXPORT const WCHAR_T* GetClassNames() {
  log("GetClassNames");
  return reinterpret_cast<const WCHAR_T*>(kClassNames);
}

ONEC_EXPORT AppCapabilities SetPlatformCapabilities(const AppCapabilities capabilities) {
  log("SetPlatformCapabilities(" + std::to_string(static_cast<int>(capabilities)) + ")");
  g_capabilities = capabilities;
  return eAppCapabilitiesLast;
}

ONEC_EXPORT AttachType GetAttachType() {
  log("GetAttachType");
  return eCanAttachAny;
}

// Test hooks (not part of the Native API).
ONEC_EXPORT const char* TestAddinLog() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  g_log_copy = g_log;
  return g_log_copy.c_str();
}
ONEC_EXPORT void TestAddinClearLog() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  g_log.clear();
  g_capabilities = 0;
}
ONEC_EXPORT int TestAddinLiveObjects() { return g_live_objects.load(); }
