// The simulator's side of the 1C Native API: the host objects the platform gives to an
// add-in (memory manager, connection, message box, platform info, attached info) and
// small extern "C" shims that call IComponentBase methods through the C++ vtable, so the
// Rust orchestration never assumes a vtable layout itself.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "AddInDefBase.h"
#include "ComponentBase.h"
#include "IMemoryManager.h"

typedef std::basic_string<WCHAR_T> wstring16;

static wstring16 from_ptr(const WCHAR_T* p) {
  if (!p) return wstring16();
  size_t n = 0;
  while (p[n]) ++n;
  return wstring16(p, n);
}

// ---------------------------------------------------------------------------------------
// C-ABI structures shared with Rust (src/ffi.rs mirrors them).

extern "C" {
struct SimValue {
  uint16_t vt;
  uint16_t reserved;
  uint32_t cb_elements;
  int64_t i;         // integral types and BOOL
  double f;          // R4, R8, DATE
  const void* ptr;   // PWSTR (UTF-16 units), PSTR / BLOB (bytes)
  uint32_t len;      // wstrLen / strLen
  int32_t tm[9];     // sec, min, hour, mday, mon, year, wday, yday, isdst
  uint8_t raw[8];    // first 8 bytes of the union (input for unknown types, always output)
};

struct SimMemReport {
  uint64_t live_blocks;
  uint64_t live_bytes;
  uint64_t allocations;
  uint64_t frees;
  uint64_t invalid_frees;
  uint64_t leaked_blocks;
  uint64_t leaked_bytes;
};
}

// ---------------------------------------------------------------------------------------
// Memory manager with accounting.

namespace {
struct GlobalStats {
  std::atomic<uint64_t> live_blocks{0}, live_bytes{0}, allocations{0}, frees{0}, invalid_frees{0},
      leaked_blocks{0}, leaked_bytes{0};
};
GlobalStats g_stats;
}  // namespace

class HostMemoryManager : public IMemoryManager {
 public:
  std::mutex m;
  std::unordered_map<void*, size_t> blocks;
  uint64_t live_bytes = 0, allocations = 0, frees = 0, invalid_frees = 0, leaked_blocks = 0,
           leaked_bytes = 0;

  bool ADDIN_API AllocMemory(void** pMemory, unsigned long ulCountByte) override {
    if (!pMemory) return false;
    void* p = std::malloc(ulCountByte ? ulCountByte : 1);
    *pMemory = p;
    if (!p) return false;
    std::lock_guard<std::mutex> lock(m);
    blocks[p] = ulCountByte;
    live_bytes += ulCountByte;
    ++allocations;
    g_stats.live_blocks++;
    g_stats.live_bytes += ulCountByte;
    g_stats.allocations++;
    return true;
  }

  void ADDIN_API FreeMemory(void** pMemory) override {
    if (!pMemory || !*pMemory) return;  // freeing null is harmless, as with free()
    void* p = *pMemory;
    {
      std::lock_guard<std::mutex> lock(m);
      auto it = blocks.find(p);
      if (it == blocks.end()) {
        // Double free, or a pointer that never came from AllocMemory: record it and
        // leave the memory alone (the real platform would corrupt its heap here).
        ++invalid_frees;
        g_stats.invalid_frees++;
        return;
      }
      live_bytes -= it->second;
      g_stats.live_blocks--;
      g_stats.live_bytes -= it->second;
      blocks.erase(it);
      ++frees;
      g_stats.frees++;
    }
    std::free(p);
    *pMemory = nullptr;
  }

  void report(SimMemReport* r) {
    std::lock_guard<std::mutex> lock(m);
    r->live_blocks = blocks.size();
    r->live_bytes = live_bytes;
    r->allocations = allocations;
    r->frees = frees;
    r->invalid_frees = invalid_frees;
    r->leaked_blocks = leaked_blocks;
    r->leaked_bytes = leaked_bytes;
  }

  // Teardown: whatever is still live is a leak; count it and give the memory back.
  void release_all() {
    std::lock_guard<std::mutex> lock(m);
    for (auto& b : blocks) {
      std::free(b.first);
      ++leaked_blocks;
      leaked_bytes += b.second;
      g_stats.live_blocks--;
      g_stats.live_bytes -= b.second;
      g_stats.leaked_blocks++;
      g_stats.leaked_bytes += b.second;
    }
    blocks.clear();
    live_bytes = 0;
  }

  ~HostMemoryManager() { release_all(); }
  ONEC_MSVC_DELETING_DTOR_IMPL(HostMemoryManager)
};

// ---------------------------------------------------------------------------------------
// Records shared with Rust: a few integers and strings, copied under a lock.

struct SimRecord {
  int64_t ints[2] = {0, 0};
  std::vector<wstring16> strs;
};

struct Host;

// Pointer handed out by GetInterface: what the real platform returns on each OS.
template <class T>
static IInterface* expose_interface(T* object) {
#ifdef ONEC_WINDOWS
  // MSVC places the empty IInterface base after the vptr; the platform returns that
  // subobject and the add-in steps back one pointer to reach the vptr.
  return reinterpret_cast<IInterface*>(reinterpret_cast<char*>(object) + sizeof(void*));
#else
  // Itanium ABI: the empty base shares the address of the object (offset 0).
  return static_cast<IInterface*>(object);
#endif
}

class HostMsgBox : public IMsgBox {
 public:
  std::mutex m;
  std::vector<SimRecord> boxes;
  bool confirm_answer = true;
  bool ADDIN_API Confirm(const WCHAR_T* queryText, tVariant* retVal) override {
    std::lock_guard<std::mutex> lock(m);
    SimRecord r;
    r.ints[0] = 1;
    r.strs.push_back(from_ptr(queryText));
    boxes.push_back(r);
    if (retVal) {
      tVarInit(retVal);
      retVal->vt = VTYPE_BOOL;
      retVal->u.bVal = confirm_answer;
    }
    return true;
  }
  bool ADDIN_API Alert(const WCHAR_T* text) override {
    std::lock_guard<std::mutex> lock(m);
    SimRecord r;
    r.ints[0] = 0;
    r.strs.push_back(from_ptr(text));
    boxes.push_back(r);
    return true;
  }
};

class HostPlatformInfo : public IPlatformInfo {
 public:
  wstring16 version, user_agent;
  AppInfo info{};
  const AppInfo* ADDIN_API GetPlatformInfo() override { return &info; }
};

class HostAttachedInfo : public IAttachedInfo {
 public:
  AttachedType type = eAttachedNotIsolated;
  AttachedType ADDIN_API GetAttachedInfo() override { return type; }
};

enum Counter {
  C_ACCEPTED = 0,
  C_REJECTED = 1,
  C_SERVER_DISCARDED = 2,
  C_QUEUED = 3,
  C_GET_INTERFACE_MISUSE = 4,
  C_GET_INTERFACE_CALLS = 5,
  C_STATUS_LINE_SETS = 6,
  C_DEPTH = 7,
};

class HostConnection : public IAddInDefBaseEx {
 public:
  Host* host = nullptr;
  std::mutex m;
  std::condition_variable cv;
  std::deque<SimRecord> queue;
  long depth = 1;  // the platform starts with a buffer of one event
  bool no_delivery = false;  // server: events never reach client code
  uint64_t counters[8] = {0};
  std::vector<SimRecord> errors;
  wstring16 status_line;

  bool ADDIN_API AddError(unsigned short wcode, const WCHAR_T* source, const WCHAR_T* descr,
                          long scode) override {
    std::lock_guard<std::mutex> lock(m);
    SimRecord r;
    r.ints[0] = wcode;
    r.ints[1] = scode;
    r.strs.push_back(from_ptr(source));
    r.strs.push_back(from_ptr(descr));
    errors.push_back(r);
    return true;
  }
  // No profile storage is modelled: reads fail, writes are accepted and dropped.
  bool ADDIN_API Read(WCHAR_T*, tVariant* pVal, long* pErrCode, WCHAR_T** errDescriptor) override {
    if (pVal) tVarInit(pVal);
    if (pErrCode) *pErrCode = 0;
    if (errDescriptor) *errDescriptor = nullptr;
    return false;
  }
  bool ADDIN_API Write(WCHAR_T*, tVariant*) override { return true; }
  bool ADDIN_API RegisterProfileAs(WCHAR_T*) override { return true; }
  bool ADDIN_API SetEventBufferDepth(long lDepth) override {
    if (lDepth < 1) return false;
    std::lock_guard<std::mutex> lock(m);
    depth = lDepth;
    return true;
  }
  long ADDIN_API GetEventBufferDepth() override {
    std::lock_guard<std::mutex> lock(m);
    return depth;
  }
  bool ADDIN_API ExternalEvent(WCHAR_T* wszSource, WCHAR_T* wszMessage, WCHAR_T* wszData) override {
    SimRecord r;
    r.strs.push_back(from_ptr(wszSource));
    r.strs.push_back(from_ptr(wszMessage));
    r.strs.push_back(from_ptr(wszData));
    {
      std::lock_guard<std::mutex> lock(m);
      if (no_delivery) {
        // Server: there is no form or application module to deliver to. The model
        // returns false and drops the event (as for any event the platform cannot process).
        counters[C_SERVER_DISCARDED]++;
        counters[C_REJECTED]++;
        return false;
      }
      if (static_cast<long>(queue.size()) >= depth) {
        counters[C_REJECTED]++;  // buffer full: the event is lost
        return false;
      }
      queue.push_back(r);
      counters[C_ACCEPTED]++;
    }
    cv.notify_all();
    return true;
  }
  void ADDIN_API CleanEventBuffer() override {
    std::lock_guard<std::mutex> lock(m);
    queue.clear();
  }
  bool ADDIN_API SetStatusLine(WCHAR_T* wszStatusLine) override {
    std::lock_guard<std::mutex> lock(m);
    status_line = from_ptr(wszStatusLine);
    counters[C_STATUS_LINE_SETS]++;
    return true;
  }
  void ADDIN_API ResetStatusLine() override {
    std::lock_guard<std::mutex> lock(m);
    status_line.clear();
  }
  IInterface* ADDIN_API GetInterface(Interfaces iface) override;
};

struct Host {
  HostMemoryManager mem;
  HostConnection conn;
  HostMsgBox msgbox;
  HostPlatformInfo pinfo;
  HostAttachedInfo ainfo;
  int capabilities = 3;
};

IInterface* ADDIN_API HostConnection::GetInterface(Interfaces iface) {
  {
    std::lock_guard<std::mutex> lock(m);
    counters[C_GET_INTERFACE_CALLS]++;
    if (host->capabilities < 1) {
      // An old platform has no IAddInDefBaseEx at all; calling GetInterface there would
      // jump past the end of the vtable. Record the misuse and return nothing.
      counters[C_GET_INTERFACE_MISUSE]++;
      return nullptr;
    }
  }
  switch (iface) {
    case eIMsgBox:
      return expose_interface<IMsgBox>(&host->msgbox);
    case eIPlatformInfo:
      return expose_interface<IPlatformInfo>(&host->pinfo);
    case eIAttachedInfo:
      return expose_interface<IAttachedInfo>(&host->ainfo);
    default:
      return nullptr;
  }
}

// ---------------------------------------------------------------------------------------
// tVariant <-> SimValue

static void to_variant(const SimValue* s, tVariant* v) {
  tVarInit(v);
  switch (s->vt) {
    case VTYPE_EMPTY:
    case VTYPE_NULL:
      break;
    case VTYPE_I4:
      v->u.lVal = static_cast<int32_t>(s->i);
      break;
    case VTYPE_R8:
      v->u.dblVal = s->f;
      break;
    case VTYPE_BOOL:
      v->u.bVal = s->i != 0;
      break;
    case VTYPE_PWSTR:
      v->u.wstr.pwstrVal = const_cast<WCHAR_T*>(static_cast<const WCHAR_T*>(s->ptr));
      v->u.wstr.wstrLen = s->len;
      break;
    case VTYPE_BLOB:
    case VTYPE_PSTR:
      v->u.str.pstrVal = const_cast<char*>(static_cast<const char*>(s->ptr));
      v->u.str.strLen = s->len;
      break;
    case VTYPE_TM:
      v->u.tmVal.tm_sec = s->tm[0];
      v->u.tmVal.tm_min = s->tm[1];
      v->u.tmVal.tm_hour = s->tm[2];
      v->u.tmVal.tm_mday = s->tm[3];
      v->u.tmVal.tm_mon = s->tm[4];
      v->u.tmVal.tm_year = s->tm[5];
      v->u.tmVal.tm_wday = s->tm[6];
      v->u.tmVal.tm_yday = s->tm[7];
      v->u.tmVal.tm_isdst = s->tm[8];
      break;
    default:
      memcpy(&v->u, s->raw, sizeof(s->raw));
      break;
  }
  v->cbElements = s->cb_elements;
  v->vt = s->vt;
}

static void from_variant(const tVariant* v, SimValue* s) {
  memset(s, 0, sizeof(*s));
  s->vt = v->vt;
  s->cb_elements = v->cbElements;
  memcpy(s->raw, &v->u, sizeof(s->raw));
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(&v->u);
  switch (v->vt) {
    case VTYPE_I2: s->i = v->u.shortVal; break;
    case VTYPE_I4: s->i = v->u.lVal; break;
    case VTYPE_ERROR: s->i = v->u.errCode; break;
    case VTYPE_I1: s->i = v->u.i8Val; break;
    case VTYPE_UI1: s->i = v->u.ui8Val; break;
    case VTYPE_UI2: s->i = v->u.ushortVal; break;
    case VTYPE_UI4: s->i = v->u.ulVal; break;
    case VTYPE_I8: s->i = v->u.llVal; break;
    case VTYPE_UI8: s->i = static_cast<int64_t>(v->u.ullVal); break;
    case VTYPE_INT: s->i = v->u.intVal; break;
    case VTYPE_UINT: s->i = v->u.uintVal; break;
    case VTYPE_HRESULT: s->i = v->u.hRes; break;
    case VTYPE_BOOL: s->i = bytes[0] != 0; break;  // read the byte: a bad bool is not UB here
    case VTYPE_R4: s->f = v->u.fltVal; break;
    case VTYPE_R8: s->f = v->u.dblVal; break;
    case VTYPE_DATE: s->f = v->u.date; break;
    case VTYPE_PWSTR:
      s->ptr = v->u.wstr.pwstrVal;
      s->len = v->u.wstr.wstrLen;
      break;
    case VTYPE_PSTR:
    case VTYPE_BLOB:
      s->ptr = v->u.str.pstrVal;
      s->len = v->u.str.strLen;
      break;
    case VTYPE_TM:
      s->tm[0] = v->u.tmVal.tm_sec;
      s->tm[1] = v->u.tmVal.tm_min;
      s->tm[2] = v->u.tmVal.tm_hour;
      s->tm[3] = v->u.tmVal.tm_mday;
      s->tm[4] = v->u.tmVal.tm_mon;
      s->tm[5] = v->u.tmVal.tm_year;
      s->tm[6] = v->u.tmVal.tm_wday;
      s->tm[7] = v->u.tmVal.tm_yday;
      s->tm[8] = v->u.tmVal.tm_isdst;
      break;
    default:
      break;
  }
}

// Builds the parameter array the platform passes: host-owned tVariants.
struct Params {
  std::vector<tVariant> vars;
  tVariant* ptr = nullptr;
  Params(const SimValue* args, int64_t n, int pass_null) {
    vars.resize(n > 0 ? static_cast<size_t>(n) : 1);
    for (auto& v : vars) tVarInit(&v);
    for (int64_t k = 0; k < n; ++k) to_variant(&args[k], &vars[static_cast<size_t>(k)]);
    ptr = pass_null ? nullptr : vars.data();
  }
};

static IComponentBase* comp(void* c) { return static_cast<IComponentBase*>(c); }

// ---------------------------------------------------------------------------------------
// extern "C" API used by Rust.

extern "C" {

size_t sim_abi_sim_value_size() { return sizeof(SimValue); }
size_t sim_abi_tvariant_size() { return sizeof(tVariant); }

void* sim_host_new(int capabilities, int app_type, int isolated, const WCHAR_T* version,
                   const WCHAR_T* user_agent) {
  Host* h = new Host();
  h->capabilities = capabilities;
  h->conn.host = h;
  // Where no client code exists to receive events (AppType::is_server on the Rust side).
  h->conn.no_delivery = app_type == IPlatformInfo::eAppServer || app_type == IPlatformInfo::eAppExtConn ||
                        app_type == IPlatformInfo::eAppMobileServer;
  h->pinfo.version = from_ptr(version);
  h->pinfo.user_agent = from_ptr(user_agent);
  h->pinfo.info.AppVersion = h->pinfo.version.c_str();
  h->pinfo.info.UserAgentInformation = h->pinfo.user_agent.c_str();
  h->pinfo.info.Application = static_cast<IPlatformInfo::AppType>(app_type);
  h->ainfo.type = isolated ? IAttachedInfo::eAttachedIsolated : IAttachedInfo::eAttachedNotIsolated;
  return h;
}

void sim_host_free(void* host) { delete static_cast<Host*>(host); }

// What the platform passes to Init (the connection) and to setMemManager.
void* sim_host_connection(void* host) { return static_cast<IAddInDefBaseEx*>(&static_cast<Host*>(host)->conn); }
void* sim_host_memory_manager(void* host) { return static_cast<IMemoryManager*>(&static_cast<Host*>(host)->mem); }

void sim_host_mem_report(void* host, SimMemReport* out) { static_cast<Host*>(host)->mem.report(out); }
void sim_host_mem_release_all(void* host) { static_cast<Host*>(host)->mem.release_all(); }
void sim_global_mem_report(SimMemReport* r) {
  r->live_blocks = g_stats.live_blocks;
  r->live_bytes = g_stats.live_bytes;
  r->allocations = g_stats.allocations;
  r->frees = g_stats.frees;
  r->invalid_frees = g_stats.invalid_frees;
  r->leaked_blocks = g_stats.leaked_blocks;
  r->leaked_bytes = g_stats.leaked_bytes;
}

// The platform releases a string/blob the add-in handed over: through IMemoryManager.
void sim_host_mem_free(void* host, const void* p) {
  void* q = const_cast<void*>(p);
  IMemoryManager* mm = &static_cast<Host*>(host)->mem;
  mm->FreeMemory(&q);
}

uint64_t sim_host_counter(void* host, int which) {
  HostConnection& c = static_cast<Host*>(host)->conn;
  std::lock_guard<std::mutex> lock(c.m);
  if (which == C_QUEUED) return c.queue.size();
  if (which == C_DEPTH) return static_cast<uint64_t>(c.depth);
  if (which < 0 || which >= 8) return 0;
  return c.counters[which];
}

// Pops one event, waiting up to timeout_ms on a condition variable. Null on timeout.
void* sim_host_take_event(void* host, int64_t timeout_ms) {
  HostConnection& c = static_cast<Host*>(host)->conn;
  std::unique_lock<std::mutex> lock(c.m);
  if (!c.cv.wait_for(lock, std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms),
                     [&] { return !c.queue.empty(); }))
    return nullptr;
  SimRecord* r = new SimRecord(std::move(c.queue.front()));
  c.queue.pop_front();
  return r;
}

void sim_host_clean_events(void* host) { static_cast<Host*>(host)->conn.CleanEventBuffer(); }

void* sim_host_error(void* host, size_t idx) {
  HostConnection& c = static_cast<Host*>(host)->conn;
  std::lock_guard<std::mutex> lock(c.m);
  if (idx >= c.errors.size()) return nullptr;
  return new SimRecord(c.errors[idx]);
}

size_t sim_host_error_count(void* host) {
  HostConnection& c = static_cast<Host*>(host)->conn;
  std::lock_guard<std::mutex> lock(c.m);
  return c.errors.size();
}

void* sim_host_msgbox(void* host, size_t idx) {
  HostMsgBox& b = static_cast<Host*>(host)->msgbox;
  std::lock_guard<std::mutex> lock(b.m);
  if (idx >= b.boxes.size()) return nullptr;
  return new SimRecord(b.boxes[idx]);
}

void* sim_host_status_line(void* host) {
  HostConnection& c = static_cast<Host*>(host)->conn;
  std::lock_guard<std::mutex> lock(c.m);
  SimRecord* r = new SimRecord();
  r->strs.push_back(c.status_line);
  return r;
}

int64_t sim_record_int(void* rec, int idx) { return static_cast<SimRecord*>(rec)->ints[idx & 1]; }
const WCHAR_T* sim_record_str(void* rec, size_t idx, size_t* len) {
  SimRecord* r = static_cast<SimRecord*>(rec);
  if (idx >= r->strs.size()) {
    *len = 0;
    return nullptr;
  }
  *len = r->strs[idx].size();
  return r->strs[idx].data();
}
void sim_record_free(void* rec) { delete static_cast<SimRecord*>(rec); }

// ---- IComponentBase calls, through the compiler's vtables ------------------------------

int sim_c_init(void* c, void* connection) { return comp(c)->Init(connection); }
int sim_c_set_mem_manager(void* c, void* mem) { return comp(c)->setMemManager(mem); }
int64_t sim_c_get_info(void* c) { return comp(c)->GetInfo(); }
void sim_c_done(void* c) { comp(c)->Done(); }

int sim_c_register_extension_as(void* c, const WCHAR_T** out) {
  WCHAR_T* name = nullptr;
  bool ok = comp(c)->RegisterExtensionAs(&name);
  *out = name;
  return ok;
}
int64_t sim_c_get_n_props(void* c) { return comp(c)->GetNProps(); }
int64_t sim_c_find_prop(void* c, const WCHAR_T* name) { return comp(c)->FindProp(name); }
const WCHAR_T* sim_c_get_prop_name(void* c, int64_t num, int64_t alias) {
  return comp(c)->GetPropName(static_cast<long>(num), static_cast<long>(alias));
}
int sim_c_get_prop_val(void* c, int64_t num, SimValue* out) {
  tVariant v;
  tVarInit(&v);
  bool ok = comp(c)->GetPropVal(static_cast<long>(num), &v);
  from_variant(&v, out);
  return ok;
}
int sim_c_set_prop_val(void* c, int64_t num, const SimValue* value) {
  tVariant v;
  to_variant(value, &v);
  return comp(c)->SetPropVal(static_cast<long>(num), &v);
}
int sim_c_is_prop_readable(void* c, int64_t num) { return comp(c)->IsPropReadable(static_cast<long>(num)); }
int sim_c_is_prop_writable(void* c, int64_t num) { return comp(c)->IsPropWritable(static_cast<long>(num)); }
int64_t sim_c_get_n_methods(void* c) { return comp(c)->GetNMethods(); }
int64_t sim_c_find_method(void* c, const WCHAR_T* name) { return comp(c)->FindMethod(name); }
const WCHAR_T* sim_c_get_method_name(void* c, int64_t num, int64_t alias) {
  return comp(c)->GetMethodName(static_cast<long>(num), static_cast<long>(alias));
}
int64_t sim_c_get_n_params(void* c, int64_t num) { return comp(c)->GetNParams(static_cast<long>(num)); }
int sim_c_get_param_def_value(void* c, int64_t method, int64_t param, SimValue* out) {
  tVariant v;
  tVarInit(&v);
  bool ok = comp(c)->GetParamDefValue(static_cast<long>(method), static_cast<long>(param), &v);
  from_variant(&v, out);
  return ok;
}
int sim_c_has_ret_val(void* c, int64_t num) { return comp(c)->HasRetVal(static_cast<long>(num)); }
int sim_c_call_as_proc(void* c, int64_t num, const SimValue* args, int64_t nargs, int pass_null,
                       int64_t count) {
  Params p(args, nargs, pass_null);
  return comp(c)->CallAsProc(static_cast<long>(num), p.ptr, static_cast<long>(count));
}
int sim_c_call_as_func(void* c, int64_t num, SimValue* ret, const SimValue* args, int64_t nargs,
                       int pass_null, int64_t count) {
  Params p(args, nargs, pass_null);
  tVariant r;
  tVarInit(&r);
  bool ok = comp(c)->CallAsFunc(static_cast<long>(num), &r, p.ptr, static_cast<long>(count));
  from_variant(&r, ret);
  return ok;
}
void sim_c_set_locale(void* c, const WCHAR_T* loc) { comp(c)->SetLocale(loc); }
void sim_c_set_user_interface_language_code(void* c, const WCHAR_T* lang) {
  comp(c)->SetUserInterfaceLanguageCode(lang);
}

// OneScript-style teardown: `delete` through IComponentBase's virtual destructor.
// Returns 0 (and does nothing) when the deleting-destructor slot of the vtable is
// null, which is what several Rust add-in frameworks put there: calling it would crash.
int sim_c_delete(void* c) {
  IInitDoneBase* primary = comp(c);
  void** vtable = *reinterpret_cast<void***>(primary);
#ifdef ONEC_MSVC_DTOR_EMULATION
  if (!vtable[0]) return 0;
  primary->onec_msvc_deleting_dtor(1);
#else
  // Itanium ABI: [0] complete-object destructor, [1] deleting destructor.
  if (!vtable[1]) return 0;
  delete comp(c);
#endif
  return 1;
}

}  // extern "C"
