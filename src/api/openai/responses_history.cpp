#include "api/openai/responses_history.hpp"

#include "api/openai/json_checks.hpp"

namespace chatgate::api::openai {

namespace json = boost::json;

bool wants_store(const json::object& body) {
    const json::value* store = member(body, "store");
    return !store || !store->is_bool() || store->get_bool();
}

Result<std::optional<std::string>> previous_response_of(const json::object& body) {
    const json::value* previous = member(body, "previous_response_id");
    if (!previous) return std::optional<std::string>{};
    if (!previous->is_string()) return wrong_type("previous_response_id", "a string", *previous);
    return std::optional<std::string>(std::string(previous->get_string()));
}

std::vector<std::string> item_references(const json::object& body) {
    std::vector<std::string> out;
    const json::value* input = member(body, "input");
    if (!input || !input->is_array()) return out;
    for (const auto& item : input->get_array()) {
        const auto* object = item.if_object();
        if (!object || !object->contains("type") || object->at("type") != "item_reference")
            continue;
        if (const json::value* id = member(*object, "id"); id && id->is_string()) {
            out.emplace_back(id->get_string());
        }
    }
    return out;
}

Result<json::array> conversation_items(const json::object& body, const json::array& history,
                                       const std::map<std::string, json::object>& items) {
    json::array out = history;
    const json::value* input = member(body, "input");
    if (!input) return out;
    if (input->is_string()) {
        out.push_back(json::object{{"role", "user"}, {"content", *input}});
        return out;
    }
    if (!input->is_array()) return out;  // the translation names the type error
    const auto& list = input->get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto* object = list[i].if_object();
        bool reference =
            object && object->contains("type") && object->at("type") == "item_reference";
        if (!reference) {
            out.push_back(list[i]);
            continue;
        }
        const json::value* id = member(*object, "id");
        auto found =
            id && id->is_string() ? items.find(std::string(id->get_string())) : items.end();
        if (found == items.end()) {
            return invalid("input[" + std::to_string(i) + "]",
                           "Item with id '" +
                               (id && id->is_string() ? std::string(id->get_string()) : "") +
                               "' not found.");
        }
        out.push_back(found->second);
    }
    return out;
}

std::vector<std::pair<std::string, json::object>> output_as_input(const json::object& response) {
    std::vector<std::pair<std::string, json::object>> out;
    const json::value* output = member(response, "output");
    if (!output || !output->is_array()) return out;
    for (const auto& value : output->get_array()) {
        const auto* item = value.if_object();
        if (!item) continue;
        std::string id(item->at("id").as_string());
        if (item->at("type") == "function_call") {
            out.emplace_back(id, json::object{{"type", "function_call"},
                                              {"call_id", item->at("call_id")},
                                              {"name", item->at("name")},
                                              {"arguments", item->at("arguments")}});
            continue;
        }
        json::array content;
        for (const auto& part : item->at("content").as_array()) {
            content.push_back(
                json::object{{"type", "output_text"}, {"text", part.as_object().at("text")}});
        }
        if (content.empty()) continue;  // an empty answer continues nothing
        out.emplace_back(
            id, json::object{
                    {"type", "message"}, {"role", "assistant"}, {"content", std::move(content)}});
    }
    return out;
}

}  // namespace chatgate::api::openai
