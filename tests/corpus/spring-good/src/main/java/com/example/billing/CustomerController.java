package com.example.billing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.domain.Page;
import org.springframework.data.domain.Pageable;
import org.springframework.security.access.prepost.PreAuthorize;
import org.springframework.web.bind.annotation.*;

@RestController
@RequestMapping("/customers")
@PreAuthorize("hasRole('USER')")
public class CustomerController {
    private static final Logger log = LoggerFactory.getLogger(CustomerController.class);
    private final CustomerRepository customers;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public CustomerController(CustomerRepository customers) {
        this.customers = customers;
    }

    @GetMapping
    public Page<Customer> customers(Pageable page) {
        return customers.findAll(page);
    }

    @GetMapping("/{id}")
    public Customer customer(@PathVariable UUID id, @RequestParam(defaultValue = "1") String version) {
        int v;
        try {
            v = Integer.parseInt(version);
        } catch (NumberFormatException ignored) {
            // not a number: the current version
            v = 1;
        }
        log.info("customer {} requested (version {}, token present: {})", id, v, version != null);
        return customers.findByPublicId(id).orElseThrow();
    }

    @PostMapping("/{id}/thumbnail")
    public String thumbnail(@PathVariable UUID id, @RequestParam String file) throws IOException {
        new ProcessBuilder("convert", file, String.format("thumb-%s.png", id)).start();
        return "started";
    }

    String ping(String url) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString()).body();
    }
}
