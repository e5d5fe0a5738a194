#include "services/common/wire.h"

#include <grpcpp/support/proto_buffer_reader.h>

#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "services/common/validation.h"

namespace backline {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorProto;
using google::protobuf::FieldDescriptor;
using google::protobuf::FieldDescriptorProto;
using google::protobuf::FileDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Twins of the API's messages in which every string field is a bytes field (and maps are plain
// repeated entries, since bytes cannot be a map key). A request that failed to parse only
// because of invalid UTF-8 parses into its twin, which then tells which field it was.
class LenientTwins {
 public:
  static LenientTwins& Instance() {
    static LenientTwins* const twins = new LenientTwins();
    return *twins;
  }

  // A new, empty twin of `descriptor`'s message, or null if none can be built.
  std::unique_ptr<Message> New(const Descriptor* descriptor) {
    absl::MutexLock lock(&mu_);
    AddFile(descriptor->file());
    const Descriptor* twin = pool_.FindMessageTypeByName(descriptor->full_name());
    if (twin == nullptr) return nullptr;
    return std::unique_ptr<Message>(factory_.GetPrototype(twin)->New());
  }

 private:
  static void MakeLenient(DescriptorProto* message) {
    if (message->options().map_entry()) message->mutable_options()->clear_map_entry();
    for (FieldDescriptorProto& f : *message->mutable_field()) {
      if (f.type() == FieldDescriptorProto::TYPE_STRING)
        f.set_type(FieldDescriptorProto::TYPE_BYTES);
    }
    for (DescriptorProto& nested : *message->mutable_nested_type()) MakeLenient(&nested);
  }

  void AddFile(const FileDescriptor* file) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!added_.insert(file->name()).second) return;
    for (int i = 0; i < file->dependency_count(); ++i) AddFile(file->dependency(i));
    google::protobuf::FileDescriptorProto proto;
    file->CopyTo(&proto);
    for (DescriptorProto& m : *proto.mutable_message_type()) MakeLenient(&m);
    pool_.BuildFile(proto);
  }

  absl::Mutex mu_;
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_{&pool_};
  std::set<std::string> added_ ABSL_GUARDED_BY(mu_);
};

// The path of the first field of `twin` that was a string in `original` and holds invalid
// UTF-8, e.g. `customer.call_id` or `people[3].display_name`; empty if there is none.
std::string FindInvalidUtf8(const Message& twin, const Descriptor* original,
                            const std::string& prefix) {
  const Reflection* r = twin.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(twin, &fields);
  for (const FieldDescriptor* f : fields) {
    const FieldDescriptor* o = original->FindFieldByNumber(f->number());
    if (o == nullptr) continue;
    const std::string name = absl::StrCat(prefix, f->name());
    const int n = f->is_repeated() ? r->FieldSize(twin, f) : 1;
    for (int i = 0; i < n; ++i) {
      const std::string path = f->is_repeated() ? absl::StrCat(name, "[", i, "]") : name;
      if (f->type() == FieldDescriptor::TYPE_BYTES && o->type() == FieldDescriptor::TYPE_STRING) {
        const std::string v =
            f->is_repeated() ? r->GetRepeatedString(twin, f, i) : r->GetString(twin, f);
        if (!IsValidUtf8(v)) return path;
      } else if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
        const Message& sub =
            f->is_repeated() ? r->GetRepeatedMessage(twin, f, i) : r->GetMessage(twin, f);
        std::string found = FindInvalidUtf8(sub, o->message_type(), path + ".");
        if (!found.empty()) return found;
      }
    }
  }
  return "";
}

}  // namespace

absl::Status ParseRequest(const grpc::ByteBuffer& buffer, google::protobuf::Message* message) {
  grpc::ByteBuffer copy(buffer);
  std::string bytes;
  {
    grpc::ProtoBufferReader reader(&copy);
    const void* data;
    int size;
    while (reader.Next(&data, &size)) bytes.append(static_cast<const char*>(data), size);
  }
  if (message->ParseFromString(bytes)) return absl::OkStatus();
  auto twin = LenientTwins::Instance().New(message->GetDescriptor());
  if (twin != nullptr && twin->ParseFromString(bytes)) {
    const std::string field = FindInvalidUtf8(*twin, message->GetDescriptor(), "");
    if (!field.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": invalid UTF-8"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("request is not a valid ", message->GetDescriptor()->full_name()));
}

absl::Status SerializeToBuffer(const google::protobuf::Message& message, grpc::ByteBuffer* buffer) {
  std::string bytes;
  if (!message.SerializeToString(&bytes)) return absl::InternalError("response does not serialize");
  grpc::Slice slice(std::move(bytes));
  *buffer = grpc::ByteBuffer(&slice, 1);
  return absl::OkStatus();
}

}  // namespace backline
